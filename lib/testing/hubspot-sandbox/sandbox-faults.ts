import type {
  SandboxFaultKind,
  SandboxInjectedFault,
  SandboxRandomFaults,
  SandboxRequestInfo,
} from './sandbox-options.interface';

const DEFAULT_KINDS: SandboxFaultKind[] = [
  '500',
  '502',
  '503',
  '423',
  'timeout',
  'reset',
];

/** mulberry32: tiny, fast and good enough to make fault sequences reproducible per seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface PendingFault extends SandboxInjectedFault {
  remaining: number;
}

/** Decides which fault, if any, a request gets: scripted ones first, then seeded random ones. */
export class SandboxFaults {
  private random: () => number;
  private scripted: PendingFault[] = [];

  constructor(
    private readonly seed: number,
    private readonly randomFaults: SandboxRandomFaults | undefined,
  ) {
    this.random = seededRandom(seed);
  }

  inject(fault: SandboxInjectedFault): void {
    this.scripted.push({ ...fault, remaining: fault.times ?? 1 });
  }

  pick(req: SandboxRequestInfo): SandboxInjectedFault | undefined {
    const index = this.scripted.findIndex((f) => matches(f, req));
    if (index >= 0) {
      const fault = this.scripted[index];
      if (--fault.remaining <= 0) this.scripted.splice(index, 1);
      return fault;
    }
    const random = this.randomFaults;
    if (!random || random.rate <= 0 || (random.match && !random.match(req)))
      return undefined;
    // Two draws per eligible request, whatever the outcome, so a seed replays identically.
    const roll = this.random();
    const choice = this.random();
    if (roll >= random.rate) return undefined;
    const kinds = random.kinds?.length ? random.kinds : DEFAULT_KINDS;
    return { kind: kinds[Math.floor(choice * kinds.length)] };
  }

  /** Forgets scripted faults and restarts the random sequence. */
  reset(): void {
    this.scripted = [];
    this.random = seededRandom(this.seed);
  }
}

function matches(
  fault: SandboxInjectedFault,
  req: SandboxRequestInfo,
): boolean {
  if (fault.method && fault.method.toUpperCase() !== req.method) return false;
  const path = fault.path;
  if (path === undefined) return true;
  if (path instanceof RegExp) return path.test(req.path);
  return (
    req.path === path ||
    req.path.startsWith(path.endsWith('/') ? path : `${path}/`)
  );
}
