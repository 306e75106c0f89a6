// A crash-safe lock file between tscni processes: O_EXCL create holding our pid; a dead holder's lock is taken over.

import { mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';
import { RunnerError } from './cli/errors.ts';

function holderAlive(path: string): boolean {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    return true; // removed or replaced right now: look again
  }
  // Created but not yet written by its holder: held, unless it stays empty for long (a crash in between).
  if (text === '') {
    const st = statSync(path, { throwIfNoEntry: false });
    return st === undefined || Date.now() - st.mtimeMs < 5000;
  }
  const pid = Number(text);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs fn holding the lock at `path`. With `createDir: false` the lock's directory must exist (a container's own
 * lock: taking it must never bring a removed container's directory back); otherwise it throws ENOENT.
 */
export async function withLock<T>(path: string, fn: () => Promise<T>, opts: { timeoutMs?: number; createDir?: boolean } = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  if (opts.createDir !== false) mkdirSync(dirname(path), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (!holderAlive(path)) {
        rmSync(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new RunnerError(`timed out waiting for lock ${path}`);
      await new Promise((r) => setTimeout(r, 15 + Math.random() * 20));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}
