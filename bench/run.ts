import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * `npm run bench [name]`: every benchmark in turn, each in its own process so that entity
 * declarations, connection pools and RSS readings of one never leak into another.
 */
const BENCHES = [
  'inline-sync',
  'capture-overhead',
  'hubspot-adapter',
  'queue-e2e',
  'backfill',
  'stale-finder',
  'noop-resync',
  'change-latency',
  'metrics-cost',
  'reliability',
  'associations',
  'deletes',
];

function main(): void {
  const only = process.argv[2];
  if (only && !BENCHES.includes(only)) {
    console.error(`unknown benchmark "${only}"; one of: ${BENCHES.join(', ')}`);
    process.exit(2);
  }
  let failed = 0;
  for (const name of BENCHES) {
    if (only && only !== name) continue;
    console.log(`\n### ${name}`);
    const result = spawnSync(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        join(__dirname, `${name}.bench.ts`),
      ],
      { stdio: 'inherit', env: process.env },
    );
    if (result.status !== 0) failed++;
  }
  process.exit(failed ? 1 : 0);
}

main();
