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

/** Kinds that never reach the handler, so they cannot follow an applied write. */
const NEVER_AFTER_WRITE = new Set<SandboxFaultKind>(['429', 'slow', '423']);

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

/** Requests that change data: their fault can be played after the change (a ghost write). */
export function isWrite(
  req: Pick<SandboxRequestInfo, 'method' | 'path'>,
): boolean {
  if (req.method === 'PATCH' || req.method === 'DELETE' || req.method === 'PUT')
    return true;
  return (
    req.method === 'POST' &&
    !/\/(search|batch\/read)$/.test(req.path) &&
    !/\/associations\/.*\/batch\/read$/.test(req.path)
  );
}

interface PendingFault extends SandboxInjectedFault {
  remaining: number;
  /** Only requests that change data match (scripted ghost writes). */
  writesOnly: boolean;
}

/** Decides which fault, if any, a request gets: scripted ones first, then seeded random ones. */
export class SandboxFaults {
  private random: () => number;
  private scripted: PendingFault[] = [];
  private readonly rules: SandboxRandomFaults[];

  constructor(
    private readonly seed: number,
    randomFaults: SandboxRandomFaults | SandboxRandomFaults[] | undefined,
  ) {
    this.random = seededRandom(seed);
    this.rules = randomFaults
      ? Array.isArray(randomFaults)
        ? randomFaults
        : [randomFaults]
      : [];
  }

  inject(fault: SandboxInjectedFault, writesOnly = false): void {
    this.scripted.push({ ...fault, remaining: fault.times ?? 1, writesOnly });
  }

  pick(req: SandboxRequestInfo): SandboxInjectedFault | undefined {
    const index = this.scripted.findIndex(
      (f) => matches(f, req) && (!f.writesOnly || isWrite(req)),
    );
    if (index >= 0) {
      const fault = this.scripted[index];
      if (--fault.remaining <= 0) this.scripted.splice(index, 1);
      const { remaining: _r, writesOnly: _w, ...picked } = fault;
      return picked;
    }
    for (const rule of this.rules) {
      if (rule.rate <= 0 || !matches(rule, req)) continue;
      if (rule.match && !rule.match(req)) continue;
      // Three draws per eligible request, whatever the outcome, so a seed replays identically.
      const roll = this.random();
      const choice = this.random();
      const ghost = this.random();
      if (roll >= rule.rate) continue;
      const kinds = rule.kinds?.length ? rule.kinds : DEFAULT_KINDS;
      const kind = kinds[Math.floor(choice * kinds.length)];
      const afterWrite =
        isWrite(req) &&
        !NEVER_AFTER_WRITE.has(kind) &&
        ghost < (rule.ghostRate ?? 0);
      return { kind, ...(afterWrite ? { afterWrite } : {}) };
    }
    return undefined;
  }

  /** Forgets scripted faults and restarts the random sequence. */
  reset(): void {
    this.scripted = [];
    this.random = seededRandom(this.seed);
  }
}

function matches(
  fault: { method?: string; path?: string | RegExp },
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
