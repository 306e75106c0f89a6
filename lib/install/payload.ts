// Lists what an install writes: the pinned Node runtime, the bundled plugins re-pointed at it, the native modules
// they load at run time (only this platform's prebuilds), links in the CNI bin dir and the conflist, as data.

import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { InstallOptions } from './options.ts';

export type Item =
  | { kind: 'file'; path: string; mode: number; from: string; shebang?: string }
  | { kind: 'data'; path: string; mode: number; data: string }
  | { kind: 'symlink'; path: string; target: string };

/** Packages the bundles `require` at run time, and the files of each they need (relative paths). */
function runtimePackages(platform: string, arch: string): { name: string; keep(rel: string): boolean }[] {
  const license = (rel: string) => /^(LICENSE|LICENCE|COPYING)(\.[a-z]+)?$/i.test(rel);
  return [
    { name: 'netlink', keep: (r) => r === 'package.json' || license(r) || (r.startsWith('dist/') && r.endsWith('.js')) || r.startsWith(`prebuilds/${platform}-${arch}/`) },
    { name: 'node-gyp-build', keep: (r) => r === 'package.json' || license(r) || /^[^/]+\.js$/.test(r) },
    { name: 'koffi', keep: (r) => r === 'package.json' || license(r) || r === 'index.cjs' || r === 'src/koffi/index.cjs' || r === 'src/koffi/src/static.cjs' },
    { name: `@koromix/koffi-${platform}-${arch}`, keep: (r) => r === 'package.json' || license(r) || r === 'index.js' || r.startsWith(`${platform}_${arch}/`) },
  ];
}

function walk(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, base));
    else if (e.isFile()) out.push(relative(base, p));
  }
  return out.sort();
}

export interface Sources {
  root: string;
  nodeBin: string;
  bundles: Record<string, string>;
}

/** Finds the built artifacts in the checkout; a missing one is an error that says how to make it. */
export function findSources(source: string, plugins: readonly string[]): Sources {
  const nodeLink = join(source, 'node_modules/node/bin/node');
  if (!existsSync(nodeLink)) throw new Error(`pinned Node runtime not found at ${nodeLink} (run npm ci in ${source})`);
  const bundles: Record<string, string> = {};
  for (const p of [...plugins, 'tscni']) {
    const b = join(source, 'dist/bin', p);
    if (existsSync(b)) bundles[p] = b;
    else if (p !== 'tscni') throw new Error(`plugin ${p} not built: ${b} is missing (run npm run build in ${source})`);
  }
  return { root: source, nodeBin: realpathSync(nodeLink), bundles };
}

export function planPayload(o: InstallOptions, src: Sources, conflist?: { name: string; text: string }): Item[] {
  const lib = join(o.prefix, 'lib');
  const node = join(o.prefix, 'node');
  const shebang = `#!${node}`;
  const items: Item[] = [{ kind: 'file', path: node, mode: 0o755, from: src.nodeBin }];
  const nodeLicense = [join(dirname(src.nodeBin), '..', 'LICENSE'), join(src.root, `node_modules/node/node_modules/node-${process.platform}-${process.arch}/LICENSE`)].find((p) => existsSync(p));
  if (nodeLicense) items.push({ kind: 'file', path: join(o.prefix, 'node.LICENSE'), mode: 0o644, from: nodeLicense });
  // The bundles are CommonJS; say so, whatever package.json may sit above the prefix.
  items.push({ kind: 'data', path: join(lib, 'package.json'), mode: 0o644, data: JSON.stringify({ type: 'commonjs' }) + '\n' });
  for (const [name, from] of Object.entries(src.bundles)) items.push({ kind: 'file', path: join(lib, name), mode: 0o755, from, shebang });
  for (const pkg of runtimePackages(process.platform, process.arch)) {
    const dir = join(src.root, 'node_modules', pkg.name);
    if (!existsSync(dir)) throw new Error(`runtime module ${pkg.name} not found at ${dir} (run npm ci in ${src.root})`);
    const files = walk(dir).filter((r) => pkg.keep(r));
    if (!files.some((r) => r.endsWith('.js') || r.endsWith('.cjs'))) throw new Error(`runtime module ${pkg.name} at ${dir} has no JavaScript files`);
    for (const rel of files) {
      const from = join(dir, rel);
      items.push({ kind: 'file', path: join(lib, 'node_modules', pkg.name, rel), mode: statSync(from).mode & 0o111 ? 0o755 : 0o644, from });
    }
  }
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
