// A container's mounts at start: a missing -v host directory created (docker's behaviour), named volumes created
// on first use and filled with what the image has at the mount point (docker's copy-up), then the OCI `mounts`
// entries (after the /etc files, so a bind can still shadow them).

import { existsSync, mkdirSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { capture } from '../../exec/process.ts';
import { RunnerError, Exit } from '../cli/errors.ts';
import { withLock } from '../lock.ts';
import type { MountSpec } from './mount-specs.ts';
import type { VolumeStore } from './volume-store.ts';

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

/** The image's directory at `target`, if it is one inside the rootfs (a symlink out of it is never followed). */
function imageDir(rootfs: string, target: string): string | undefined {
  try {
    const root = realpathSync(rootfs);
    const p = realpathSync(join(root, target));
    if (!p.startsWith(root + '/') || !statSync(p).isDirectory() || readdirSync(p).length === 0) return undefined;
    return p;
  } catch {
    return undefined;
  }
}

export async function prepareMounts(specs: MountSpec[], volumes: VolumeStore, rootfs: string): Promise<OciMount[]> {
  const out: OciMount[] = [];
  for (const m of specs) {
    const rw = m.readonly ? 'ro' : 'rw';
    if (m.type === 'tmpfs') {
      out.push({ destination: m.target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', rw, ...(m.options ?? [])] });
      continue;
    }
    let source: string;
    if (m.type === 'volume') {
      source = await withLock(volumes.lock, async () => {
        if (volumes.find(m.source!)) return volumes.dataDir(m.source!);
        const v = volumes.create(m.source!, m.anonymous);
        const from = imageDir(rootfs, m.target);
        if (from) {
          const r = await capture('cp', ['-a', `${from}/.`, v.Mountpoint]);
          if (r.exitCode !== 0) throw new RunnerError(`copying ${m.target} of the image into volume ${m.source}: ${(r.failure ?? r.stderr).trim()}`);
        }
        return v.Mountpoint;
      });
    } else {
      source = m.source!;
      if (!existsSync(source)) {
        if (!m.createHostPath) throw new RunnerError(`invalid mount: bind source path ${source} does not exist`, Exit.Usage);
        mkdirSync(source, { recursive: true, mode: 0o755 });
      }
    }
    out.push({ destination: m.target, type: 'bind', source, options: ['rbind', rw] });
  }
  return out;
}
