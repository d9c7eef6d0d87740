/** Small helpers shared by the benchmarks: percentiles and a table printer. */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(
    sorted.length - 1,
    Math.ceil((p / 100) * sorted.length) - 1,
  );
  return sorted[Math.max(0, index)];
}

export async function timeEach(
  count: number,
  fn: (i: number) => Promise<unknown>,
): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    await fn(i);
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return samples;
}

export function summary(
  label: string,
  samples: number[],
): Record<string, string | number> {
  return {
    case: label,
    n: samples.length,
    'p50 ms': +percentile(samples, 50).toFixed(3),
    'p99 ms': +percentile(samples, 99).toFixed(3),
  };
}
