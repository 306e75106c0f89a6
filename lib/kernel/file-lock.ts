// A file lock the kernel releases when its holder dies: flock(2) through the libc seam (host-local's per-network
// store lock, portmap's bind-probe lock).

import { closeSync, openSync, constants } from 'node:fs';
import { CniError, Code } from '../cni/errors.ts';
import { EINTR, loadLibc } from './libc.ts';

const LOCK_EX = 2;

/**
 * Takes an exclusive flock on `path` (created 0600 if missing), blocking the main thread until it is ours: the
 * process has nothing else to do meanwhile. No stale-lock timeouts: a holder killed with -9 drops it at exit.
 */
export function lockFile(path: string): () => void {
  const libc = loadLibc();
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600);
  } catch (err) {
    throw new CniError(Code.Io, `cannot open lock file ${JSON.stringify(path)}: ${(err as Error).message}`);
  }
  for (;;) {
    if (libc.flock(fd, LOCK_EX) === 0) break;
    const e = libc.errno();
    if (e === EINTR) continue;
    closeSync(fd);
    throw new CniError(Code.Io, `flock ${JSON.stringify(path)} failed (errno ${e})`);
  }
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    closeSync(fd); // closing the only descriptor releases the flock
  };
}
