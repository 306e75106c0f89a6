// CNI_NETNS checks before any work: the path names a namespace file, and not the plugin's own network namespace.

import { statPath, type FileId } from '../kernel/fd-io.ts';
import { CniError, Code } from './errors.ts';

/** The plugin's own network namespace, as the kernel names it to this process. */
export const SELF_NETNS = '/proc/self/ns/net';

export interface NetnsCheck {
  /** Only refuse the plugin's own namespace; a path that is gone or not a namespace passes (DEL forgives those). */
  readonly onlySelf?: boolean;
  /** Accept the plugin's own namespace (CNI_NETNS_OVERRIDE). */
  readonly allowSelf?: boolean;
  /** The namespace file to compare with (tests only); defaults to SELF_NETNS. */
  readonly self?: string;
}

/** libcni's CNI_NETNS_OVERRIDE=1|true: the caller vouches that its own netns is meant (libcni's own tests do this). */
export function overridesNetnsCheck(env: Record<string, string | undefined>): boolean {
  return /^(1|true)$/i.test(env.CNI_NETNS_OVERRIDE ?? '');
}

/**
 * Code 4 when CNI_NETNS is missing, is not a namespace file (nsfs), or is the very namespace
 * the plugin runs in: ADD would then build the container's interface in the host, DEL delete the host's.
 * Namespaces are compared by inode on nsfs, so any path (a bind mount under /run/netns, /proc/<pid>/ns/net) that
 * resolves to the plugin's own namespace is caught. setns later checks that it is a *network* namespace.
 */
export function checkNetnsPath(path: string, opts: NetnsCheck = {}): void {
  const where = `CNI_NETNS ${JSON.stringify(path)}`;
  let st: FileId;
  try {
    st = statPath(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (opts.onlySelf) return;
    throw new CniError(code === 'ENOENT' ? Code.InvalidEnv : Code.Io, `${where}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const self = statPath(opts.self ?? SELF_NETNS);
  if (st.dev !== self.dev) {
    if (opts.onlySelf) return;
    throw new CniError(Code.InvalidEnv, `${where} is not a network namespace (a ${st.isDirectory ? 'directory' : 'regular file'})`);
  }
  if (st.ino === self.ino && !opts.allowSelf) {
    throw new CniError(Code.InvalidEnv, `invalid ${where}: is the plugin's own network namespace (net:[${st.ino}]), not a container's`);
  }
}
