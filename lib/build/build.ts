// Builds dist/bin: one bundled executable per plugin (plugins/<name>/main.ts) plus the runner, each run by the
// pinned Node 24 from node_modules (an absolute shebang, so a runtime can exec it from any cwd with any PATH).

import { build } from 'esbuild';
import { chmodSync, existsSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const nodeBin = realpathSync(join(root, 'node_modules/node/bin/node'));
const out = join(root, 'dist/bin');

const entries: Record<string, string> = {};
for (const name of readdirSync(join(root, 'plugins'))) {
  const main = join(root, 'plugins', name, 'main.ts');
  if (existsSync(main)) entries[name] = main;
}
const runner = join(root, 'lib/runner/cli.ts');
if (existsSync(runner)) entries.tscni = runner;

mkdirSync(out, { recursive: true });
// The bundles are CommonJS; the repo root says "type": "module", so dist/ says otherwise.
writeFileSync(join(root, "dist/package.json"), JSON.stringify({ type: "commonjs" }) + "\n");
mkdirSync(out, { recursive: true });

await Promise.all(
  Object.entries(entries).map(async ([name, entry]) => {
    // Build beside the target and rename over it, so a plugin being exec'd during a rebuild is never half-written.
    const outfile = join(out, name);
    const tmp = join(out, `.${name}.${process.pid}.tmp`);
    await build({
      entryPoints: [entry],
      outfile: tmp,
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'cjs',
      // Native addons load their prebuilt .node files at run time from node_modules.
      external: ['netlink', 'netlink/*', 'koffi'],
      banner: { js: `#!${nodeBin}\n"use strict";` },
      define: { 'import.meta.url': '__tscniImportMetaUrl' },
      inject: [join(root, 'lib/build/import-meta-url.js')],
      legalComments: 'none',
      logLevel: 'warning',
    });
    chmodSync(tmp, 0o755);
    renameSync(tmp, outfile);
  }),
);
for (const stale of readdirSync(out)) if (!(stale in entries) && !stale.startsWith('.')) rmSync(join(out, stale), { force: true });
process.stdout.write(`built ${Object.keys(entries).sort().join(', ')} into ${out}\n`);
