// Reads and validates the CNI_* environment as libcni's skel does (plus the spec's code 3 for an empty id and
// interface names the kernel steps can carry, see names.ts).

import { CniError, Code } from './errors.ts';
import { validateContainerId, validateIfname } from './names.ts';

// The name rules live in names.ts; re-exported for the callers that import them from here.
export { validateContainerId, validateIfname, validateNetworkName } from './names.ts';

export type Verb = 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC' | 'VERSION';
export const VERBS: readonly Verb[] = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'];

export interface CniEnv {
  command: Verb;
  containerId: string;
  netns: string;
  ifname: string;
  args: string;
  path: string[];
}

// Which variables each verb needs (libcni's skel is stricter than the spec: CNI_PATH everywhere but VERSION).
const REQUIRED: Record<Verb, string[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_PATH'],
  GC: ['CNI_PATH'],
  STATUS: ['CNI_PATH'],
  VERSION: [],
};

/** Parses the environment for one call. Returns undefined when CNI_COMMAND is unset (the caller prints "about"). */
export function readEnv(env: Record<string, string | undefined>): CniEnv | undefined {
  const cmd = env.CNI_COMMAND;
  if (cmd === undefined || cmd === '') return undefined;
  if (!(VERBS as readonly string[]).includes(cmd)) {
    throw new CniError(Code.InvalidEnv, `unknown CNI_COMMAND ${JSON.stringify(cmd)}: must be one of ${VERBS.join(', ')}`);
  }
  const command = cmd as Verb;
  const required = REQUIRED[command];
  if (required.includes('CNI_CONTAINERID') && !env.CNI_CONTAINERID) validateContainerId(env.CNI_CONTAINERID);
  const missing = required.filter((k) => !env[k]);
  if (missing.length) throw new CniError(Code.InvalidEnv, `required env variables [${missing.join(',')}] missing`);
  const out: CniEnv = {
    command,
    containerId: env.CNI_CONTAINERID ?? '',
    netns: env.CNI_NETNS ?? '',
    ifname: env.CNI_IFNAME ?? '',
    args: env.CNI_ARGS ?? '',
    path: (env.CNI_PATH ?? '').split(':').filter(Boolean),
  };
  if (command === 'ADD' || command === 'DEL' || command === 'CHECK') {
    validateContainerId(out.containerId);
    validateIfname(out.ifname);
  }
  return out;
}

/**
 * Parses CNI_ARGS (`K=V;K2=V2`). `known` lists the keys a plugin understands (case-sensitive, as libcni's
 * Go field names); any other key is code 4 unless IgnoreUnknown is 1 or true.
 */
export function parseCniArgs(raw: string, known: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (!raw) return out;
  const pairs: [string, string][] = [];
  for (const part of raw.split(';')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new CniError(Code.InvalidEnv, `invalid CNI_ARGS pair ${JSON.stringify(part)}: expected KEY=VALUE`);
    pairs.push([part.slice(0, eq), part.slice(eq + 1)]);
  }
  const ignore = pairs.find(([k]) => k === 'IgnoreUnknown');
  const ignoreUnknown = ignore !== undefined && /^(1|true)$/i.test(ignore[1]);
  for (const [k, v] of pairs) {
    if (k === 'IgnoreUnknown') continue;
    if (!known.includes(k)) {
      if (ignoreUnknown) continue;
      throw new CniError(Code.InvalidEnv, `unknown CNI_ARGS key ${JSON.stringify(k)} (known: ${['IgnoreUnknown', ...known].join(', ')}); set IgnoreUnknown=1 to ignore it`);
    }
    out.set(k, v);
  }
  return out;
}
