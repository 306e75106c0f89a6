// A container's mounts at start: a missing -v host directory created (docker's behaviour), named volumes created
// on first use, then the OCI `mounts` entries (after the /etc files, so a bind can still shadow them).

import { existsSync, mkdirSync } from 'node:fs';
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

export async function prepareMounts(specs: MountSpec[], volumes: VolumeStore): Promise<OciMount[]> {
  const out: OciMount[] = [];
  for (const m of specs) {
    const rw = m.readonly ? 'ro' : 'rw';
    if (m.type === 'tmpfs') {
      out.push({ destination: m.target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', rw, ...(m.options ?? [])] });
      continue;
    }
    let source: string;
    if (m.type === 'volume') {
      source = (await withLock(volumes.lock, async () => volumes.create(m.source!, m.anonymous))).Mountpoint;
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
