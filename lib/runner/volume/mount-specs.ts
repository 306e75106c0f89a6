// lib/runner/volume: what a container mounts besides its rootfs — host directories, named volumes, tmpfs. Here:
// parsing `-v`, `--mount` and `--tmpfs` into one validated, frozen list (pure; nothing is created here).

import { isAbsolute, normalize } from 'node:path';
import { UsageError } from '../cli/errors.ts';

export interface MountSpec {
  type: 'bind' | 'volume' | 'tmpfs';
  /** bind: an absolute host path; volume: the volume's name; tmpfs: none. */
  source?: string;
  target: string;
  readonly: boolean;
  /** bind from -v: create a missing host directory, as docker does (--mount refuses instead). */
  createHostPath?: boolean;
  /** volume: made up for this container (`-v /dir`), removed by `rm -v`. */
  anonymous?: boolean;
  /** tmpfs: mount options (size=, mode=, ...). */
  options?: string[];
}

/** docker's volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+, so a name is never a path and cannot leave the volumes dir. */
export const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,127}$/;

export function checkVolumeName(name: string, flag = 'volume name'): void {
  if (!VOLUME_NAME.test(name)) throw new UsageError(`invalid ${flag} ${JSON.stringify(name)}: 2-128 of letters, digits, _ . - starting with a letter or digit`);
}

function target(t: string | undefined, flag: string, spec: string): string {
  if (!t || !isAbsolute(t)) throw new UsageError(`invalid ${flag} ${JSON.stringify(spec)}: the container path must be absolute`);
  const n = normalize(t).replace(/\/+$/, '') || '/';
  if (n === '/') throw new UsageError(`invalid ${flag} ${JSON.stringify(spec)}: cannot mount over the container's /`);
  return n;
}

const TMPFS_OPTION = /^(size=\d+[kmg]?|mode=[0-7]{3,4}|uid=\d+|gid=\d+|nr_inodes=\d+[kmg]?|ro|rw|exec|noexec|suid|nosuid|dev|nodev)$/;

function tmpfsOptions(opts: string[], flag: string, spec: string): string[] {
  for (const o of opts) if (!TMPFS_OPTION.test(o)) throw new UsageError(`invalid ${flag} ${JSON.stringify(spec)}: unknown tmpfs option ${JSON.stringify(o)}`);
  return opts;
}

/** `-v [SOURCE:]TARGET[:ro|rw]`: SOURCE absolute is a host dir, otherwise a volume name; no SOURCE: anonymous. */
export function parseVolumeFlag(spec: string, anonymousName: () => string): MountSpec {
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) throw new UsageError(`invalid -v ${JSON.stringify(spec)}: expected [SOURCE:]TARGET[:ro|rw]`);
  if (parts.length === 1) return { type: 'volume', source: anonymousName(), target: target(parts[0], '-v', spec), readonly: false, anonymous: true };
  const [source, dst, mode = 'rw'] = parts;
  if (mode !== 'ro' && mode !== 'rw') throw new UsageError(`invalid -v ${JSON.stringify(spec)}: unknown mode ${JSON.stringify(mode)} (ro or rw)`);
  const readonly = mode === 'ro';
  if (source.startsWith('/')) return { type: 'bind', source: normalize(source), target: target(dst, '-v', spec), readonly, createHostPath: true };
  if (source.startsWith('.') || source.includes('/')) throw new UsageError(`invalid -v ${JSON.stringify(spec)}: a host path must be absolute; a volume name has no / and does not start with .`);
  checkVolumeName(source, `-v ${JSON.stringify(spec)}: volume name`);
  return { type: 'volume', source, target: target(dst, '-v', spec), readonly };
}

/** `--mount type=bind|volume|tmpfs,source=...,target=...[,readonly][,tmpfs-size=N][,tmpfs-mode=NNN]`. */
export function parseMountFlag(spec: string, anonymousName: () => string): MountSpec {
  const kv = new Map<string, string>();
  for (const field of spec.split(',')) {
    const i = field.indexOf('=');
    const k = (i < 0 ? field : field.slice(0, i)).trim();
    if (!k) throw new UsageError(`invalid --mount ${JSON.stringify(spec)}: empty field`);
    if (kv.has(k)) throw new UsageError(`invalid --mount ${JSON.stringify(spec)}: ${k} given twice`);
    kv.set(k, i < 0 ? 'true' : field.slice(i + 1));
  }
  const get = (...names: string[]) => names.map((n) => kv.get(n)).find((v) => v !== undefined);
  const known = new Set(['type', 'source', 'src', 'target', 'destination', 'dst', 'readonly', 'ro', 'tmpfs-size', 'tmpfs-mode']);
  for (const k of kv.keys()) if (!known.has(k)) throw new UsageError(`invalid --mount ${JSON.stringify(spec)}: unknown field ${JSON.stringify(k)}`);
  const ro = get('readonly', 'ro') ?? 'false';
  if (!['true', 'false', '1', '0'].includes(ro)) throw new UsageError(`invalid --mount ${JSON.stringify(spec)}: readonly must be true or false`);
  const readonly = ro === 'true' || ro === '1';
  const dst = target(get('target', 'destination', 'dst'), '--mount', spec);
  const source = get('source', 'src');
  const type = kv.get('type') ?? 'volume';
  if ((kv.has('tmpfs-size') || kv.has('tmpfs-mode')) && type !== 'tmpfs') throw new UsageError(`invalid --mount ${JSON.stringify(spec)}: tmpfs-* fields need type=tmpfs`);
  switch (type) {
    case 'bind':
      if (!source || !isAbsolute(source)) throw new UsageError(`invalid --mount ${JSON.stringify(spec)}: type=bind needs an absolute source`);
      return { type, source: normalize(source), target: dst, readonly };
    case 'volume':
      if (source === undefined) return { type, source: anonymousName(), target: dst, readonly, anonymous: true };
      checkVolumeName(source, `--mount ${JSON.stringify(spec)}: volume name`);
      return { type, source, target: dst, readonly };
    case 'tmpfs': {
      if (source !== undefined) throw new UsageError(`invalid --mount ${JSON.stringify(spec)}: type=tmpfs takes no source`);
      const opts = [kv.has('tmpfs-size') ? `size=${kv.get('tmpfs-size')}` : '', kv.has('tmpfs-mode') ? `mode=${kv.get('tmpfs-mode')}` : ''].filter(Boolean);
      return { type, target: dst, readonly, options: tmpfsOptions(opts, '--mount', spec) };
    }
    default:
      throw new UsageError(`invalid --mount ${JSON.stringify(spec)}: type must be bind, volume or tmpfs`);
  }
}

/** `--tmpfs TARGET[:OPTIONS]` (comma-separated mount options). */
export function parseTmpfsFlag(spec: string): MountSpec {
  const i = spec.indexOf(':');
  const dst = target(i < 0 ? spec : spec.slice(0, i), '--tmpfs', spec);
  const opts = i < 0 ? [] : spec.slice(i + 1).split(',');
  return { type: 'tmpfs', target: dst, readonly: opts.includes('ro'), options: tmpfsOptions(opts.filter((o) => o !== 'ro' && o !== 'rw'), '--tmpfs', spec) };
}

/** All of a run's mounts, refusing two on one container path; parents before children (docker's order). */
export function parseMounts(flags: { volumes: string[]; mounts: string[]; tmpfs: string[] }, anonymousName: () => string): MountSpec[] {
  const all = [...flags.volumes.map((v) => parseVolumeFlag(v, anonymousName)), ...flags.mounts.map((m) => parseMountFlag(m, anonymousName)), ...flags.tmpfs.map(parseTmpfsFlag)];
  const seen = new Set<string>();
  for (const m of all) {
    if (seen.has(m.target)) throw new UsageError(`duplicate mount point ${m.target}`);
    seen.add(m.target);
  }
  const depth = (m: MountSpec) => m.target.split('/').length;
  return all.map((m, i) => [m, i] as const).sort(([a, i], [b, j]) => depth(a) - depth(b) || i - j).map(([m]) => m);
}
