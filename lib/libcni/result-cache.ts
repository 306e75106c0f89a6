// libcni's result cache, byte-compatible: <cacheDir>/results/<net>-<cid>-<ifname>, kind cniCacheV1, base64 config.

import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CACHE_KIND = 'cniCacheV1';

export interface CachedAttachment {
  kind: string;
  containerId: string;
  config: Buffer;
  ifName: string;
  networkName: string;
  netns?: string;
  cniArgs?: [string, string][];
  capabilityArgs?: Record<string, unknown>;
  result?: Record<string, unknown>;
}

export interface AttachmentKey {
  networkName: string;
  containerId: string;
  ifName: string;
}

export function cacheFile(cacheDir: string, k: AttachmentKey): string {
  return join(cacheDir, 'results', `${k.networkName}-${k.containerId}-${k.ifName}`);
}

/** Go's json.Marshal sorts map keys; cached maps (result, capabilityArgs) come out the same way here. */
function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortDeep((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/** JSON as Go's encoder writes it (HTML-safe escapes). */
export function goJson(v: unknown): string {
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function serializeAttachment(a: Omit<CachedAttachment, 'kind'>): string {
  const o: Record<string, unknown> = { kind: CACHE_KIND, containerId: a.containerId, config: a.config.toString('base64'), ifName: a.ifName, networkName: a.networkName };
  if (a.netns) o.netns = a.netns;
  if (a.cniArgs && a.cniArgs.length) o.cniArgs = a.cniArgs;
  if (a.capabilityArgs && Object.keys(a.capabilityArgs).length) o.capabilityArgs = sortDeep(a.capabilityArgs);
  if (a.result && Object.keys(a.result).length) o.result = sortDeep(a.result);
  return goJson(o);
}

export function writeCache(cacheDir: string, a: Omit<CachedAttachment, 'kind'>): void {
  const f = cacheFile(cacheDir, a);
  mkdirSync(join(cacheDir, 'results'), { recursive: true, mode: 0o700 });
  const tmp = `${f}.tmp-${process.pid}`;
  writeFileSync(tmp, serializeAttachment(a), { mode: 0o600 });
  renameSync(tmp, f);
}

function parseCached(text: string): CachedAttachment | undefined {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!raw || raw.kind !== CACHE_KIND) return undefined;
  return {
    kind: CACHE_KIND,
    containerId: String(raw.containerId ?? ''),
    config: Buffer.from(typeof raw.config === 'string' ? raw.config : '', 'base64'),
    ifName: String(raw.ifName ?? ''),
    networkName: String(raw.networkName ?? ''),
    netns: typeof raw.netns === 'string' ? raw.netns : undefined,
    cniArgs: Array.isArray(raw.cniArgs) ? (raw.cniArgs as [string, string][]) : undefined,
    capabilityArgs: raw.capabilityArgs && typeof raw.capabilityArgs === 'object' ? (raw.capabilityArgs as Record<string, unknown>) : undefined,
    result: raw.result && typeof raw.result === 'object' ? (raw.result as Record<string, unknown>) : undefined,
  };
}

export function readCache(cacheDir: string, k: AttachmentKey): CachedAttachment | undefined {
  try {
    return parseCached(readFileSync(cacheFile(cacheDir, k), 'utf8'));
  } catch {
    return undefined;
  }
}

export function deleteCache(cacheDir: string, k: AttachmentKey): void {
  rmSync(cacheFile(cacheDir, k), { force: true });
}

/** Every cniCacheV1 attachment in the cache (file names sorted), as libcni's GetCachedAttachments. */
export function listCache(cacheDir: string): CachedAttachment[] {
  let names: string[];
  try {
    names = readdirSync(join(cacheDir, 'results')).sort();
  } catch {
    return [];
  }
  const out: CachedAttachment[] = [];
  for (const n of names) {
    if (n.includes('.tmp-')) continue;
    let text: string;
    try {
      text = readFileSync(join(cacheDir, 'results', n), 'utf8');
    } catch {
      continue;
    }
    const a = parseCached(text);
    if (a && a.ifName && a.networkName) out.push(a);
  }
  return out;
}
