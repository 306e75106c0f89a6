// Sysctls under /proc/sys, written synchronously so a caller inside inNetns() reaches that netns's values.

import { readFileSync, writeFileSync } from 'node:fs';
import { CniError, Code } from '../cni/errors.ts';

const KEY_RE = /^[A-Za-z0-9_.\-/]+$/;

function pathOf(key: string): string {
  // Keys use '/' as separator (net/ipv6/conf/eth0/accept_dad) so interface names with dots stay unambiguous.
  if (!KEY_RE.test(key) || key.split('/').some((p) => p === '..' || p === '.' || p === '')) throw new CniError(Code.Internal, `invalid sysctl key ${JSON.stringify(key)}`);
  return `/proc/sys/${key}`;
}

/** Reads a sysctl; undefined when it does not exist (e.g. IPv6 disabled in this netns). */
export function readSysctl(key: string): string | undefined {
  try {
    return readFileSync(pathOf(key), 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes a sysctl unless it already has that value. Returns false when the key does not exist (and `optional`). */
export function writeSysctl(key: string, value: string, opts: { optional?: boolean } = {}): boolean {
  const path = pathOf(key);
  try {
    if (readFileSync(path, 'utf8').trim() === value) return true;
    writeFileSync(path, value);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && opts.optional) return false;
    throw new CniError(Code.Io, `failed to set sysctl ${key}=${value}: ${code ?? (err as Error).message}`);
  }
}
