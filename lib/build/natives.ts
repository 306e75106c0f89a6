// Build-time resolution of the native addons (koffi, netlink's binding): their prebuilt .node files are found by a
// path relative to node_modules and loaded with process.dlopen, skipping the packages' run-time platform probes
// (about 15-25 ms per call, bench/README.md). The path is looked up at run time from the bundle's own directory
// upwards, so bundles keep working wherever node_modules travels with them (dist/, `tscni install`'s prefix).

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import type { Plugin } from 'esbuild';

/** Paths relative to node_modules of the prebuilt addons for this platform, where we can be sure of them. */
export interface NativePaths { koffi?: string; netlink?: string }

/** The directory of an installed package (package.json may not be in its "exports"). */
function packageDir(req: NodeJS.Require, name: string): string {
  for (const dir of req.resolve.paths(name) ?? []) if (existsSync(join(dir, name, 'package.json'))) return join(dir, name);
  throw new Error(`package ${name} not installed`);
}

export function resolveNatives(root: string): NativePaths {
  const req = createRequire(join(root, 'package.json'));
  const modules = join(root, 'node_modules');
  const out: NativePaths = {};
  try {
    const koffiVersion = (JSON.parse(readFileSync(join(packageDir(req, 'koffi'), 'package.json'), 'utf8')) as { version: string }).version;
    const pkgDir = packageDir(req, `@koromix/koffi-${process.platform}-${process.arch}`);
    const glibc = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime;
    const file = join(pkgDir, `${glibc ? process.platform : 'musl'}_${process.arch}`, 'koffi.node');
    const mod = { exports: {} as { version?: string } };
    process.dlopen(mod, file);
    if (mod.exports.version === koffiVersion) out.koffi = relative(modules, file);
  } catch {
    // koffi's own loader stays in charge
  }
  try {
    const gyp = req('node-gyp-build') as { path(dir: string): string };
    out.netlink = relative(modules, gyp.path(packageDir(req, 'netlink')));
  } catch {
    // netlink stays external
  }
  return out;
}

const RAW_CALL = "require('node-gyp-build')(__dirname + '/..')";

/**
 * `createRequire(import.meta.url)` in our sources becomes `__tscniCreateRequire(import.meta.url)` (lib/build/
 * native-require.js): require('koffi') gets the addon itself, require('netlink/dist/netlink.js') gets netlink's JS
 * bundled with its binding handed over; both stay lazy, and both fall back to node_modules when the file is absent.
 */
export function nativesPlugin(natives: NativePaths): Plugin {
  return {
    name: 'tscni-natives',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        if (args.path.includes('/node_modules/')) return undefined;
        const src = readFileSync(args.path, 'utf8');
        if (!src.includes('createRequire(import.meta.url)')) return undefined;
        return { contents: src.replaceAll('createRequire(import.meta.url)', '__tscniCreateRequire(import.meta.url)'), loader: 'ts' };
      });
      b.onResolve({ filter: /^tscni-native:netlink$/ }, (args) =>
        natives.netlink ? b.resolve('netlink/dist/netlink.js', { kind: 'require-call', resolveDir: args.resolveDir }) : { path: 'netlink/dist/netlink.js', external: true });
      b.onLoad({ filter: /[\\/]netlink[\\/]dist[\\/]raw\.js$/ }, (args) => {
        const src = readFileSync(args.path, 'utf8');
        if (!src.includes(RAW_CALL)) throw new Error(`netlink/dist/raw.js: cannot find ${RAW_CALL} to replace`);
        return { contents: src.replace(RAW_CALL, 'globalThis.__tscniNetlinkBinding'), loader: 'js' };
      });
    },
  };
}

/** esbuild `define`s that tell native-require.js where the addons are (null: use the package's own loader). */
export function nativeDefines(natives: NativePaths): Record<string, string> {
  return {
    __TSCNI_KOFFI_NODE__: JSON.stringify(natives.koffi ?? null),
    __TSCNI_NETLINK_NODE__: JSON.stringify(natives.netlink ?? null),
  };
}
