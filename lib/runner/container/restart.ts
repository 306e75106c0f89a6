// Restart policies (`run --restart no|always|on-failure[:N]|unless-stopped`), kept in the container's state: the
// monitor asks `shouldRestart` after each exit; `tscni boot` asks `startsAtBoot` after a reboot.

import { UsageError } from '../cli/errors.ts';

export interface RestartPolicy {
  name: 'no' | 'always' | 'on-failure' | 'unless-stopped';
  /** on-failure:N — at most N restarts (unlimited when absent). */
  maximumRetryCount?: number;
}

export function parseRestart(spec: string | undefined): RestartPolicy {
  if (spec === undefined || spec === 'no') return { name: 'no' };
  if (spec === 'always' || spec === 'unless-stopped') return { name: spec };
  const m = /^on-failure(?::(\d+))?$/.exec(spec);
  if (m) {
    const n = m[1] === undefined ? undefined : Number(m[1]);
    if (n !== undefined && (!Number.isSafeInteger(n) || n < 1)) throw new UsageError(`invalid --restart ${JSON.stringify(spec)}: the retry count must be a positive integer`);
    return n === undefined ? { name: 'on-failure' } : { name: 'on-failure', maximumRetryCount: n };
  }
  throw new UsageError(`invalid --restart ${JSON.stringify(spec)}: no, always, on-failure[:N] or unless-stopped`);
}

export function restartText(p: RestartPolicy | undefined): string {
  if (!p) return 'no';
  return p.name === 'on-failure' && p.maximumRetryCount !== undefined ? `on-failure:${p.maximumRetryCount}` : p.name;
}

/** Whether the monitor runs the process again after it exited with `exitCode` (`restarts` so far). */
export function shouldRestart(p: RestartPolicy | undefined, exitCode: number, restarts: number, stopRequested: boolean): boolean {
  if (!p || p.name === 'no' || stopRequested) return false;
  if (p.name === 'on-failure') return exitCode !== 0 && (p.maximumRetryCount === undefined || restarts < p.maximumRetryCount);
  return true;
}

/** docker's back-off between restarts: 100 ms, doubling, at most 10 s. */
export function restartDelayMs(restarts: number): number {
  return Math.min(100 * 2 ** restarts, 10_000);
}

/** After a reboot: always, and unless-stopped unless someone stopped it. */
export function startsAtBoot(c: { restartPolicy?: RestartPolicy; stopRequested?: boolean }): boolean {
  const n = c.restartPolicy?.name;
  return n === 'always' || (n === 'unless-stopped' && !c.stopRequested);
}
