import { inlineSyncBench } from './inline-sync.bench';

/** `npm run bench`: every benchmark in turn; each prints its own table. */
async function main(): Promise<void> {
  const only = process.argv[2];
  const benches: Record<string, () => Promise<void>> = {
    'inline-sync': inlineSyncBench,
  };
  for (const [name, bench] of Object.entries(benches)) {
    if (only && only !== name) continue;
    await bench();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
