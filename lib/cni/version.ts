// CNI spec versions: the supported list, comparison and the spec 1.1 selection rule for cniVersions.

import { CniError, Code } from './errors.ts';

export const SUPPORTED_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];
export const LATEST_VERSION: CniVersion = '1.1.0';

const SEMVER = /^(\d+)\.(\d+)\.(\d+)$/;

export function parseVersion(v: string): [number, number, number] | undefined {
  const m = SEMVER.exec(v);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** Compares two dotted versions; throws code 1 on a malformed one. */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (!pa) throw new CniError(Code.IncompatibleVersion, `invalid cniVersion ${JSON.stringify(a)}`);
  if (!pb) throw new CniError(Code.IncompatibleVersion, `invalid cniVersion ${JSON.stringify(b)}`);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

export function isSupported(v: unknown): v is CniVersion {
  return typeof v === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(v);
}

export function atLeast(v: string, min: string): boolean {
  return compareVersions(v, min) >= 0;
}

/**
 * Picks the version a config speaks (code 1 when `cniVersion`/`cniVersions` is not a string/list of strings: the same
 * answer as for a version tscni does not speak; libcni's typed decoder says 6 here, tscni keeps 6 for stdin that is
 * not JSON at all): the highest supported entry of the union of
 * `cniVersion` and `cniVersions` (spec 1.1). A config with neither is 0.1.0, as libcni reads it.
 */
export function selectVersion(conf: { cniVersion?: unknown; cniVersions?: unknown }): string {
  const candidates: string[] = [];
  // JSON null is absent, as Go's decoder reads it.
  if (conf.cniVersion !== undefined && conf.cniVersion !== null) {
    if (typeof conf.cniVersion !== 'string') {
      throw new CniError(Code.IncompatibleVersion, `invalid cniVersion ${JSON.stringify(conf.cniVersion)}: must be a version string, one of ${SUPPORTED_VERSIONS.join(', ')}`);
    }
    candidates.push(conf.cniVersion);
  }
  if (conf.cniVersions !== undefined && conf.cniVersions !== null) {
    if (!Array.isArray(conf.cniVersions) || conf.cniVersions.some((v) => typeof v !== 'string')) {
      throw new CniError(Code.IncompatibleVersion, `invalid cniVersions ${JSON.stringify(conf.cniVersions)}: must be a list of version strings`);
    }
    candidates.push(...(conf.cniVersions as string[]));
  }
  if (candidates.length === 0) return '0.1.0';
  const ours = candidates.filter(isSupported).sort(compareVersions);
  if (ours.length > 0) return ours[ours.length - 1];
  // Nothing we speak: report the highest the config asked for.
  return candidates[candidates.length - 1];
}

export function requireSupported(v: string): CniVersion {
  if (!isSupported(v)) {
    throw new CniError(
      Code.IncompatibleVersion,
      `incompatible CNI versions; config is ${JSON.stringify(v)}, plugin supports ${JSON.stringify(SUPPORTED_VERSIONS)}`,
    );
  }
  return v;
}
