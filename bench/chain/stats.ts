// Small statistics for latency samples: median, nearest-rank percentiles, first/last 10% slices, formatting.

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The first and last ceil(10%) of a series (at least one sample each). */
export function tenths<T>(xs: readonly T[]): { first: T[]; last: T[] } {
  const k = Math.max(1, Math.ceil(xs.length / 10));
  return { first: xs.slice(0, k), last: xs.slice(-k) };
}

export const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
export const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
