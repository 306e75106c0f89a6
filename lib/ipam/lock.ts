// A per-network lock the kernel releases when its holder dies: flock(2) on `<dir>/lock`, called through koffi.

import { closeSync, openSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { CniError, Code } from '../../lib/cni/errors.ts';

const LOCK_EX = 2;
const EINTR = 4;
const require = createRequire(import.meta.url);

let flock: ((fd: number, op: number) => number) | undefined;
let errno: (() => number) | undefined;

function load(): (fd: number, op: number) => number {
  if (flock) return flock;
  const koffi = require('koffi') as { load(name: string): { func(sig: string): (...a: unknown[]) => number }; errno(): number };
  const fn = koffi.load('libc.so.6').func('int flock(int fd, int op)');
  errno = () => koffi.errno();
  flock = (fd, op) => fn(fd, op);
  return flock;
}

/**
 * Takes an exclusive flock on `path` (created 0600 if missing), blocking the main thread until it is ours: the
 * process has nothing else to do meanwhile. No stale-lock timeouts: a holder killed with -9 drops it at exit.
 */
export function lockFile(path: string): () => void {
  const call = load();
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600);
  } catch (err) {
    throw new CniError(Code.Io, `cannot open lock file ${JSON.stringify(path)}: ${(err as Error).message}`);
  }
  for (;;) {
    if (call(fd, LOCK_EX) === 0) break;
    const e = errno!();
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
