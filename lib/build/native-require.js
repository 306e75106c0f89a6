// What bundled code gets for createRequire(import.meta.url): native addons dlopen'ed directly from the nearest
// node_modules above the bundle (paths fixed at build time by natives.ts), anything else from node_modules as before.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const loaded = new Map();

function findNative(rel) {
  if (!rel) return undefined;
  for (let d = __dirname; ; d = dirname(d)) {
    const p = join(d, 'node_modules', rel);
    if (existsSync(p)) return p;
    if (dirname(d) === d) return undefined;
  }
}

function dlopen(file) {
  const m = { exports: {} };
  process.dlopen(m, file);
  return m.exports;
}

function load(id) {
  if (id === 'koffi') {
    const p = findNative(__TSCNI_KOFFI_NODE__);
    return p ? dlopen(p) : undefined;
  }
  if (id === 'netlink/dist/netlink.js') {
    const p = findNative(__TSCNI_NETLINK_NODE__);
    if (!p) return undefined;
    globalThis.__tscniNetlinkBinding = dlopen(p);
    return require('tscni-native:netlink');
  }
  return undefined;
}

export function __tscniCreateRequire(url) {
  const fallback = createRequire(url);
  return (id) => {
    if (!loaded.has(id)) loaded.set(id, load(id) ?? fallback(id));
    return loaded.get(id);
  };
}
