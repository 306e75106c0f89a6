// The runtime every executable runs on: the Bun pinned in package.json, by absolute shebang, with bundles Bun
// runs as they are; the libc seam answers the same through both backends (bun:ffi in the executables, koffi in
// ava's in-process tests).

import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { loadLibc } from '../../../lib/kernel/libc.ts';
import { DIST_BIN, ROOT } from '../../helpers/plugin.ts';

const BUN = realpathSync(join(ROOT, 'node_modules/bun/bin/bun.exe'));
const PINNED = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies.bun;
const EXECUTABLES = ['bridge', 'host-local', 'loopback', 'portmap', 'tscni'];

test('dist/bin holds exactly the four plugins and the runner, each a bundle for the pinned Bun', (t) => {
  t.deepEqual(readdirSync(DIST_BIN).filter((n) => !n.startsWith('.')).sort(), EXECUTABLES);
  t.is(execFileSync(BUN, ['--version'], { encoding: 'utf8' }).trim(), PINNED);
  for (const e of EXECUTABLES) {
    const [shebang, pragma] = readFileSync(join(DIST_BIN, e), 'utf8').split('\n', 2);
    t.is(shebang, `#!${BUN}`, e);
    // Without the pragma Bun transpiles the whole bundle again on every call.
    t.is(pragma, '// @bun', e);
  }
});

test('every executable runs with no system JS runtime on PATH and prints nothing on stderr for VERSION', (t) => {
  for (const p of EXECUTABLES.filter((e) => e !== 'tscni')) {
    const r = spawnSync(join(DIST_BIN, p), [], { env: { PATH: '/nonexistent', CNI_COMMAND: 'VERSION' }, input: '{"cniVersion":"1.0.0"}', cwd: '/', encoding: 'utf8' });
    t.is(r.status, 0, `${p}: ${r.stderr}`);
    t.is(r.stderr, '', p);
    t.is(JSON.parse(r.stdout).cniVersion, '1.0.0', p);
  }
  const help = spawnSync(join(DIST_BIN, 'tscni'), ['--help'], { env: { PATH: '/nonexistent' }, cwd: '/', encoding: 'utf8' });
  t.is(help.status, 0, help.stderr);
  t.is(help.stdout.split('\n')[0], 'Usage: tscni COMMAND [ARGS]');
});

// Both backends: a bad descriptor gives -1 and errno EBADF (9); a netlink socket opens, binds and closes.
const PROBE = `
  const c = loadLibc();
  const bad = c.setns(987654, 0x40000000);
  const e1 = c.errno();
  const fl = c.flock(987654, 2);
  const e2 = c.errno();
  const fd = c.socket(16, 3 | 0o2000000, 0);
  const sa = new Uint8Array(12); sa[0] = 16;
  const bound = c.bind(fd, sa);
  const closed = c.close(fd);
  return { backend: c.backend, bad, e1, fl, e2, socketOk: fd > 2, bound, closed };`;

const expected = (backend: string) => ({ backend, bad: -1, e1: 9, fl: -1, e2: 9, socketOk: true, bound: 0, closed: 0 });

test('libc seam under Node: koffi', (t) => {
  t.deepEqual(new Function('loadLibc', PROBE)(loadLibc), expected('koffi'));
});

test('libc seam under the pinned Bun: bun:ffi, same answers', (t) => {
  const script = `import { loadLibc } from ${JSON.stringify(join(ROOT, 'lib/kernel/libc.ts'))}; console.log(JSON.stringify((() => {${PROBE}})()));`;
  const out = execFileSync(BUN, ['-e', script], { encoding: 'utf8', cwd: ROOT });
  t.deepEqual(JSON.parse(out), expected('bun:ffi'));
});
