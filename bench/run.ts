import { inlineSyncBench } from './inline-sync.bench';
import { queueE2eBench } from './queue-e2e.bench';
import { hubspotAdapterBench } from './hubspot-adapter.bench';
import { captureOverheadBench } from './capture-overhead.bench';
import { staleFinderBench } from './stale-finder.bench';
import { noopResyncBench } from './noop-resync.bench';

/** `npm run bench`: every benchmark in turn; each prints its own table. */
async function main(): Promise<void> {
  const only = process.argv[2];
  const benches: Record<string, () => Promise<void>> = {
    'inline-sync': inlineSyncBench,
    'queue-e2e': queueE2eBench,
    'hubspot-adapter': hubspotAdapterBench,
    'capture-overhead': captureOverheadBench,
    'stale-finder': staleFinderBench,
    'noop-resync': noopResyncBench,
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
