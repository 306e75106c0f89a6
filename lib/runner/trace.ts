// TSCNI_TRACE=1: one stderr line per step with its duration, to see where a run or rm spends its time.

const on = process.env.TSCNI_TRACE === '1';
let last = performance.now();

export function trace(step: string): void {
  if (!on) return;
  const now = performance.now();
  process.stderr.write(`[trace ${process.pid}] ${(now - last).toFixed(1).padStart(7)} ms  ${step}\n`);
  last = now;
}
