// The only module that switches network namespaces: setns(2) through the libc seam, synchronously, always switching back.

import { CniError, Code } from '../cni/errors.ts';
import { closeFd, FdError, openReadOnly } from './fd-io.ts';
import { loadLibc } from './libc.ts';

const CLONE_NEWNET = 0x40000000;

/** Opens a netns path; a missing path is code 4 naming CNI_NETNS, other failures code 5. */
export function openNetns(path: string): number {
  try {
    return openReadOnly(path);
  } catch (err) {
    const code = err instanceof FdError ? err.code : undefined;
    throw new CniError(code === 'ENOENT' ? Code.InvalidEnv : Code.Io, `failed to open netns ${JSON.stringify(path)}: ${code ?? (err as Error).message}`);
  }
}

/**
 * Runs `fn` with the calling thread inside the netns open at `fd`, then switches back. `fn` must be synchronous:
 * libuv's thread pool stays in the host netns. Sockets created inside stay bound to that netns.
 */
export function inNetnsFd<T>(fd: number, what: string, fn: () => T): T {
  const c = loadLibc();
  const self = openReadOnly('/proc/thread-self/ns/net');
  try {
    if (c.setns(fd, CLONE_NEWNET) !== 0) {
      const errno = c.errno();
      throw new CniError(Code.InvalidEnv, `${what} is not a network namespace (setns errno ${errno})`);
    }
    try {
      return fn();
    } finally {
      if (c.setns(self, CLONE_NEWNET) !== 0) {
        // Staying in the container's netns would make every later step wrong: stop here.
        process.stderr.write(`fatal: cannot return to the host network namespace (errno ${c.errno()})\n`);
        process.exit(1);
      }
    }
  } finally {
    closeFd(self);
  }
}

/** Opens `path` and runs `fn` inside it (see inNetnsFd). */
export function inNetns<T>(path: string, fn: () => T): T {
  const fd = openNetns(path);
  try {
    return inNetnsFd(fd, `CNI_NETNS ${JSON.stringify(path)}`, fn);
  } finally {
    closeFd(fd);
  }
}
