/** Timing helpers for the benchmarks: figures are printed, never asserted. */

export interface Timing {
  median: number;
  p99: number;
  mean: number;
}

/** Times `fn` `iterations` times after `warmup` calls; returns per-call µs. */
export function timeCalls(fn: (i: number) => void, iterations: number, warmup = Math.min(2000, iterations)): Timing {
  for (let i = 0; i < warmup; i++) fn(i);
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    fn(i);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return summarize(samples);
}

export function summarize(samples: Float64Array): Timing {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  let s = 0;
  for (const v of sorted) s += v;
  return { median: at(0.5), p99: at(0.99), mean: s / sorted.length };
}

export function row(label: string, t: Timing, floor?: Timing): string {
  const base = `${label.padEnd(44)} median ${t.median.toFixed(2).padStart(8)} µs   p99 ${t.p99.toFixed(2).padStart(8)} µs`;
  if (!floor) return base;
  return `${base}   ×floor: median ${(t.median / floor.median).toFixed(2)}  p99 ${(t.p99 / floor.p99).toFixed(2)}`;
}
