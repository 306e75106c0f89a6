// Builds dist/bin: one bundled executable per plugin (plugins/<name>/main.ts) plus the runner, each run by the Bun
// pinned in package.json (an absolute shebang to node_modules' binary, so a runtime can exec it from any cwd with
// any PATH and whatever JS runtime the system has, or none). Options: --no-minify, --out DIR (A/B builds).

import { build } from 'esbuild';
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bunBinary } from '../install/bun-runtime.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: opt } = parseArgs({
  options: {
    out: { type: 'string', default: join(root, 'dist/bin') },
    'no-minify': { type: 'boolean', default: false },
  },
});
const bun = bunBinary(root);
const out = resolve(opt.out!);

const entries: Record<string, string> = {};
for (const name of readdirSync(join(root, 'plugins'))) {
  const main = join(root, 'plugins', name, 'main.ts');
  if (existsSync(main)) entries[name] = main;
}
const runner = join(root, 'lib/runner/cli/main.ts');
if (existsSync(runner)) entries.tscni = runner;

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
      // Bun runs ES modules natively; one file with every dependency inlined (execa stays a lazy chunk-free import).
      format: 'esm',
      target: 'esnext',
      minify: !opt['no-minify'],
      // bun:ffi is Bun's own module; koffi is the Node backend of lib/kernel/libc.ts and never loaded under Bun.
      external: ['bun:ffi', 'koffi'],
      // `// @bun` marks the file as already bundled for Bun: its runtime skips transpiling it (about 2.5 ms a call).
      // CommonJS dependencies (execa's cross-spawn) call require(), which an ES module under Bun does not have.
      banner: { js: `#!${bun}\n// @bun\nimport { createRequire as __tscniCreateRequire } from 'node:module'; const require = __tscniCreateRequire(import.meta.url);` },
      legalComments: 'none',
      logLevel: 'warning',
    });
    chmodSync(tmp, 0o755);
    renameSync(tmp, outfile);
  }),
);
for (const stale of readdirSync(out)) if (!(stale in entries) && !stale.startsWith('.')) rmSync(join(out, stale), { force: true });
rmSync(join(dirname(out), '.jscache'), { recursive: true, force: true }); // V8 code caches of the Node-era build
rmSync(join(dirname(out), 'package.json'), { force: true });
process.stdout.write(`built ${Object.keys(entries).sort().join(', ')} into ${out} (run by ${bun})\n`);
