// A container's root filesystem: an overlay of the image's layers plus a writable layer of its own (or --rootfs DIR).

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunnerError } from '../cli/errors.ts';
import { capture } from '../../exec/process.ts';

export interface RootfsPaths {
  merged: string;
  upper: string;
  work: string;
}

export function rootfsPaths(containerDir: string): RootfsPaths {
  return { merged: join(containerDir, 'rootfs'), upper: join(containerDir, 'upper'), work: join(containerDir, 'work') };
}

/** Mount points as the kernel reports them (octal escapes decoded). */
function mountPoints(): Set<string> {
  const out = new Set<string>();
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f.length > 4) out.add(f[4].replace(/\\([0-7]{3})/g, (_m, o) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

export function isMounted(path: string): boolean {
  return mountPoints().has(path);
}

/** Mounts the overlay (lowest layer last in lowerdir, as overlayfs wants the top first). */
export async function mountOverlay(layers: string[], p: RootfsPaths): Promise<void> {
  for (const d of [p.merged, p.upper, p.work]) mkdirSync(d, { recursive: true });
  if (isMounted(p.merged)) return;
  for (const l of layers) if (!existsSync(l)) throw new RunnerError(`image layer ${l} is missing: remove the image and load it again`);
  const opts = `lowerdir=${[...layers].reverse().join(':')},upperdir=${p.upper},workdir=${p.work}`;
  const r = await capture('mount', ['-t', 'overlay', 'overlay', '-o', opts, p.merged]);
  if (r.exitCode !== 0) throw new RunnerError(`mounting the rootfs overlay at ${p.merged}: ${r.stderr.trim()}`);
}

/** Unmounts the overlay if mounted (lazily when busy: the last process may still be exiting). */
export async function unmountOverlay(p: RootfsPaths): Promise<void> {
  if (!isMounted(p.merged)) return;
  const r = await capture('umount', [p.merged]);
  if (r.exitCode !== 0 && isMounted(p.merged)) {
    const lazy = await capture('umount', ['-l', p.merged]);
    if (lazy.exitCode !== 0) throw new RunnerError(`unmounting ${p.merged}: ${lazy.stderr.trim()}`);
  }
}
