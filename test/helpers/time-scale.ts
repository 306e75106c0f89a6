// Waits and time bounds in tests, stretched where the machine is known to be slow: TSCNI_TEST_TIME_SCALE=N (the
// vm tier sets it inside a VM under software emulation, where everything takes several times as long). The host
// run keeps the exact bounds the issues ask for (N = 1).

export const TIME_SCALE = Math.max(1, Number(process.env.TSCNI_TEST_TIME_SCALE) || 1);

/** `ms` on this machine. */
export const scaled = (ms: number): number => ms * TIME_SCALE;
