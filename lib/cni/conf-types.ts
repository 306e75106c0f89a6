// Types of the spec's well-known network config keys, checked by the skeleton for every plugin before any work:
// a wrongly typed key is an invalid config (code 7) naming the key and value, whichever plugin reads it.

import { invalidConfig } from './errors.ts';
import { checkPluginType } from './names.ts';

// SPEC.md §1 and §3: objects the runtime or the user passes, and the booleans of a network config.
const OBJECT_KEYS = ['ipam', 'dns', 'runtimeConfig', 'args', 'capabilities'] as const;
const BOOLEAN_KEYS = ['ipMasq', 'disableCheck', 'disableGC'] as const;

const kind = (v: unknown): string => (Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v);
const absent = (v: unknown): boolean => v === undefined || v === null;

/** Throws code 7 for the first well-known key of the wrong type (JSON null counts as absent, as Go reads it). */
export function checkWellKnownTypes(conf: Record<string, unknown>): void {
  if (!absent(conf.type)) checkPluginType(conf.type, 'type');
  for (const key of OBJECT_KEYS) {
    const v = conf[key];
    if (!absent(v) && (typeof v !== 'object' || Array.isArray(v))) throw invalidConfig(key, v, `must be an object, got ${kind(v)}`);
  }
  for (const key of BOOLEAN_KEYS) {
    const v = conf[key];
    if (!absent(v) && typeof v !== 'boolean') throw invalidConfig(key, v, 'must be true or false');
  }
  const ipam = conf.ipam as Record<string, unknown> | null | undefined;
  if (ipam && !absent(ipam.type) && ipam.type !== '') checkPluginType(ipam.type, 'ipam.type');
}
