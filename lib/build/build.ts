// Builds dist/bin: one bundled executable per plugin (plugins/<name>/main.ts) plus the runner, each run by the
// pinned Node 24 from node_modules (an absolute shebang, so a runtime can exec it from any cwd with any PATH).
// Start-up options (bench/README.md has the numbers): --no-natives, --no-minify, --no-code-cache, --out DIR (A/B builds).

import { build } from 'esbuild';
import { chmodSync, existsSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { nativeDefines, nativesPlugin, resolveNatives } from './natives.ts';
import { bundleHash, CACHE_DIR, codeCacheExecutable } from './code-cache.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: opt } = parseArgs({
  options: {
    out: { type: 'string', default: join(root, 'dist/bin') },
    'no-natives': { type: 'boolean', default: false },
    'no-minify': { type: 'boolean', default: false },
    'no-code-cache': { type: 'boolean', default: false },
    'node-flag': { type: 'string' },
  },
});
// The shebang runs the pinned node; Linux passes at most one argument after it, so at most one node flag.
const nodeBin = realpathSync(join(root, 'node_modules/node/bin/node')) + (opt['node-flag'] ? ` ${opt['node-flag']}` : '');
const out = resolve(opt.out!);
const dist = dirname(out);

const entries: Record<string, string> = {};
for (const name of readdirSync(join(root, 'plugins'))) {
  const main = join(root, 'plugins', name, 'main.ts');
  if (existsSync(main)) entries[name] = main;
}
const runner = join(root, 'lib/runner/cli/main.ts');
if (existsSync(runner)) entries.tscni = runner;

mkdirSync(out, { recursive: true });
// The bundles are CommonJS; the repo root says "type": "module", so dist/ says otherwise.
writeFileSync(join(dist, 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');

const natives = opt['no-natives'] ? {} : resolveNatives(root);
const codeCache = !opt['no-code-cache'];
const cacheDir = join(dist, CACHE_DIR);
if (codeCache) mkdirSync(cacheDir, { recursive: true });

await Promise.all(
  Object.entries(entries).map(async ([name, entry]) => {
    // Build beside the target and rename over it, so a plugin being exec'd during a rebuild is never half-written.
    const outfile = join(out, name);
    const tmp = join(out, `.${name}.${process.pid}.tmp`);
    const result = await build({
      entryPoints: [entry],
      write: false,
      outfile: tmp,
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'cjs',
      minify: !opt['no-minify'],
      // Native addons: dlopen'ed by a path fixed at build time (natives.ts) or loaded at run time from node_modules.
      external: natives.netlink ? ['koffi'] : ['netlink', 'netlink/*', 'koffi'],
      plugins: [nativesPlugin(natives)],
      banner: { js: `#!${nodeBin}\n"use strict";` },
      define: { 'import.meta.url': '__tscniImportMetaUrl', ...nativeDefines(natives) },
      inject: [join(root, 'lib/build/import-meta-url.js'), join(root, 'lib/build/native-require.js')],
      legalComments: 'none',
      logLevel: 'warning',
    });
    const code = result.outputFiles[0].text;
    const bundle = code.slice(code.indexOf('\n') + 1);
    writeFileSync(tmp, codeCache ? codeCacheExecutable(nodeBin, bundle) : code);
    chmodSync(tmp, 0o755);
    renameSync(tmp, outfile);
    // Caches of earlier bundles are never read again (the name carries the bundle hash): drop them.
    const keep = `${name}.${bundleHash(bundle)}.`;
    if (existsSync(cacheDir)) for (const f of readdirSync(cacheDir)) if (f.startsWith(`${name}.`) && !f.startsWith(keep)) rmSync(join(cacheDir, f), { force: true });
  }),
);
for (const stale of readdirSync(out)) if (!(stale in entries) && !stale.startsWith('.')) rmSync(join(out, stale), { force: true });
process.stdout.write(`built ${Object.keys(entries).sort().join(', ')} into ${out}\n`);
