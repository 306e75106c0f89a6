// Lists what an install writes: the pinned Bun runtime, the bundled plugins re-pointed at it (each bundle carries
// every dependency, so nothing else from node_modules), links in the CNI bin dir and the conflist, as data.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bunBinary } from './bun-runtime.ts';
import type { InstallOptions } from './options.ts';

export type Item =
  | { kind: 'file'; path: string; mode: number; from: string; shebang?: string }
  | { kind: 'data'; path: string; mode: number; data: string }
  | { kind: 'symlink'; path: string; target: string };

export interface Sources {
  root: string;
  bunBin: string;
  bundles: Record<string, string>;
}

/** Finds the built artifacts in the checkout; a missing one is an error that says how to make it. */
export function findSources(source: string, plugins: readonly string[]): Sources {
  let bunBin: string;
  try {
    bunBin = bunBinary(source);
  } catch (err) {
    throw new Error(`${(err as Error).message} in ${source}`);
  }
  const bundles: Record<string, string> = {};
  for (const p of [...plugins, 'tscni']) {
    const b = join(source, 'dist/bin', p);
    if (existsSync(b)) bundles[p] = b;
    else if (p !== 'tscni') throw new Error(`plugin ${p} not built: ${b} is missing (run npm run build in ${source})`);
  }
  return { root: source, bunBin, bundles };
}

export function planPayload(o: InstallOptions, src: Sources, conflist?: { name: string; text: string }): Item[] {
  const lib = join(o.prefix, 'lib');
  const bun = join(o.prefix, 'bun');
  const shebang = `#!${bun}`;
  const items: Item[] = [{ kind: 'file', path: bun, mode: 0o755, from: src.bunBin }];
  for (const [name, from] of Object.entries(src.bundles)) items.push({ kind: 'file', path: join(lib, name), mode: 0o755, from, shebang });
  for (const name of Object.keys(src.bundles)) {
    if (name !== 'tscni') items.push({ kind: 'symlink', path: join(o.binDir, name), target: join(lib, name) });
  }
  if (conflist) items.push({ kind: 'data', path: join(o.confDir, conflist.name), mode: 0o644, data: conflist.text });
  return items;
}

/** The first line of a bundle must be its shebang; the rest is copied byte for byte. */
export function reshebang(content: Buffer, shebang: string, what: string): Buffer {
  const nl = content.indexOf(0x0a);
  if (content[0] !== 0x23 || content[1] !== 0x21 || nl < 0) throw new Error(`${what}: no shebang line to rewrite`);
  return Buffer.concat([Buffer.from(shebang + '\n'), content.subarray(nl + 1)]);
}

export function readSource(item: Item): Buffer {
  if (item.kind === 'data') return Buffer.from(item.data);
  if (item.kind === 'file') return item.shebang ? reshebang(readFileSync(item.from), item.shebang, item.from) : readFileSync(item.from);
  throw new Error(`a symlink has no content: ${item.path}`);
}
