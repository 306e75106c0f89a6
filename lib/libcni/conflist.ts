// Network configuration lists as libcni loads them: .conflist first, then .conf/.json wrapped as one-plugin lists.

import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { CniError, Code } from '../cni/errors.ts';
import { validateNetworkName } from '../cni/env.ts';
import { selectVersion } from '../cni/version.ts';

export type PluginConf = Record<string, unknown> & { type: string; capabilities?: Record<string, boolean> };

export interface ConfList {
  name: string;
  cniVersion: string;
  disableCheck: boolean;
  disableGC: boolean;
  plugins: PluginConf[];
  /** The bytes libcni caches (the file for a .conflist, the synthesized list for a .conf). */
  bytes: Buffer;
  /** Where it came from (empty for a cached config). */
  file: string;
}

function parseJson(bytes: Buffer, where: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new CniError(Code.Decode, `error parsing configuration list ${where}: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CniError(Code.Decode, `error parsing configuration list ${where}: not a JSON object`);
  return v as Record<string, unknown>;
}

function optBool(raw: Record<string, unknown>, key: string, where: string): boolean {
  const v = raw[key];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new CniError(Code.InvalidConfig, `invalid ${key} ${JSON.stringify(v)} in ${where}: must be true or false`);
  return v;
}

/**
 * Parses the bytes of a configuration list. With `confDir`, plugins from `<confDir>/<name>/*.conf` are appended
 * (lexical order) unless the list sets `loadOnlyInlinedPlugins` (spec 1.1, libcni >= 1.3).
 */
export function confListFromBytes(bytes: Buffer, where: string, confDir?: string): ConfList {
  const raw = parseJson(bytes, where);
  const name = validateNetworkName(raw.name);
  const cniVersion = selectVersion(raw);
  const onlyInlined = optBool(raw, 'loadOnlyInlinedPlugins', where);
  if (onlyInlined && raw.plugins === undefined) {
    throw new CniError(Code.InvalidConfig, `invalid loadOnlyInlinedPlugins in ${where}: true needs an inline plugins list`);
  }
  if (raw.plugins !== undefined && !Array.isArray(raw.plugins)) throw new CniError(Code.InvalidConfig, `invalid plugins in ${where}: must be a list`);
  const listed: unknown[] = [...((raw.plugins as unknown[] | undefined) ?? [])];
  let effective = bytes;
  if (confDir && !onlyInlined) {
    const extra = filesWith(join(confDir, name), ['.conf']).map((f) => parseJson(readFileSync(f), f));
    listed.push(...extra);
    // The cached copy must stand alone (a DEL may come after the directory changed): inline what was appended.
    if (extra.length) effective = Buffer.from(JSON.stringify({ ...raw, plugins: listed, loadOnlyInlinedPlugins: true }));
  }
  if (listed.length === 0) {
    throw new CniError(Code.InvalidConfig, `invalid plugins in ${where}: no plugins in list`);
  }
  const plugins = listed.map((p, i) => {
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new CniError(Code.InvalidConfig, `invalid plugins[${i}] in ${where}: must be an object`);
    const type = (p as Record<string, unknown>).type;
    if (typeof type !== 'string' || type === '') throw new CniError(Code.InvalidConfig, `invalid plugins[${i}].type ${JSON.stringify(type)} in ${where}: missing plugin type`);
    return p as PluginConf;
  });
  return {
    name,
    cniVersion,
    disableCheck: optBool(raw, 'disableCheck', where),
    disableGC: optBool(raw, 'disableGC', where),
    plugins,
    bytes: effective,
    file: where,
  };
}

/** Wraps a single-plugin config (.conf/.json) as a list, as libcni's ConfListFromConf does. */
export function confListFromConf(bytes: Buffer, where: string, _confDir?: string): ConfList {
  const raw = parseJson(bytes, where);
  if (typeof raw.type !== 'string' || raw.type === '') throw new CniError(Code.InvalidConfig, `invalid type ${JSON.stringify(raw.type)} in ${where}: missing plugin type`);
  const list: Record<string, unknown> = { cniVersion: raw.cniVersion, name: raw.name, plugins: [raw] };
  if (raw.cniVersions !== undefined) list.cniVersions = raw.cniVersions;
  return confListFromBytes(Buffer.from(JSON.stringify(list)), where);
}

function filesWith(dir: string, exts: string[]): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CniError(Code.Io, `reading NETCONFPATH ${dir}: ${(err as Error).message}`);
  }
  return names.filter((n) => exts.includes(extname(n))).sort().map((n) => join(dir, n));
}

/** Every loadable list in `dir` (lists first, then single configs), skipping files that do not parse. */
export function loadAllConfLists(dir: string): { lists: ConfList[]; errors: string[] } {
  const lists: ConfList[] = [];
  const errors: string[] = [];
  for (const [exts, parse] of [[['.conflist'], confListFromBytes], [['.conf', '.json'], confListFromConf]] as const) {
    for (const f of filesWith(dir, [...exts])) {
      try {
        lists.push(parse(readFileSync(f), f, dir));
      } catch (err) {
        errors.push(`${f}: ${(err as Error).message}`);
      }
    }
  }
  return { lists, errors };
}

/** libcni's LoadConfList: the first list (lexical order, .conflist before .conf/.json) whose name matches. */
export function loadConfList(dir: string, name: string): ConfList {
  for (const f of filesWith(dir, ['.conflist'])) {
    const list = confListFromBytes(readFileSync(f), f, dir);
    if (list.name === name) return list;
  }
  for (const f of filesWith(dir, ['.conf', '.json'])) {
    const list = confListFromConf(readFileSync(f), f);
    if (list.name === name) return list;
  }
  throw new CniError(Code.InvalidConfig, `no net configuration with name ${JSON.stringify(name)} in ${dir}`);
}
