// `tscni run` refuses what cannot work before it creates anything: a runtime that cannot be run (exit 125 at once,
// naming it) and a container name that is not Docker's shape or too long (exit 2). Nothing is left behind.
// A runtime that disappears later fails the start at once too (the monitor records why it could not run it).

import test from 'ava';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ipJson, requireRoot } from '../../helpers/netns.ts';
import { makeRunnerEnv, mountsUnder, testNetwork, writeConf, type RunnerEnv } from './harness.ts';

function setup(t: any, role: string): RunnerEnv {
  const r = makeRunnerEnv(t, role);
  writeConf(r, '10-tnet.conflist', testNetwork(r, 'tnet', `tscnit${role}`, '10.99.47.0/24'));
  // With TSCNI_TRACE=1 every step past validation (name and ports reserved, netns created, ...) prints a line on
  // stderr: a stderr holding only the error proves none of them ran.
  r.env.TSCNI_TRACE = '1';
  return r;
}

/** What a refused run could have left: container state, runc state, mounts, veths on the private host. */
function leftovers(r: RunnerEnv) {
  const containers = join(r.state, 'containers');
  return {
    stateDirs: existsSync(containers) ? readdirSync(containers).filter((n) => /^[0-9a-f]{64}$/.test(n)).length : 0,
    index: existsSync(join(containers, 'index.json')) ? JSON.parse(readFileSync(join(containers, 'index.json'), 'utf8')).containers.length : 0,
    runc: existsSync(join(r.state, 'runc')) ? readdirSync(join(r.state, 'runc')).length : 0,
    mounts: mountsUnder(r.dir).length,
    veths: ipJson(r.host, ['link', 'show', 'type', 'veth']).length,
    cache: existsSync(join(r.cache, 'results')) ? readdirSync(join(r.cache, 'results')).length : 0,
  };
}
const NOTHING = { stateDirs: 0, index: 0, runc: 0, mounts: 0, veths: 0, cache: 0 };

/** 64-hex netns pins (a container's) that appeared while `fn` ran and whose id is a container of this test's state. */
async function netnsOfThisState(r: RunnerEnv, fn: () => Promise<unknown>): Promise<string[]> {
  const pins = () => (existsSync('/var/run/netns') ? readdirSync('/var/run/netns').filter((n) => /^[0-9a-f]{64}$/.test(n)) : []);
  const before = new Set(pins());
  await fn();
  return pins().filter((n) => !before.has(n) && existsSync(join(r.state, 'containers', n)));
}

test('run --runtime /nonexistent/runc: exit 125 at once, naming the path; nothing is created', async (t) => {
  if (!requireRoot(t)) return;
  const r = setup(t, 'vr');
  const rootfs = join(r.dir, 'rootfs');
  mkdirSync(rootfs);
  let o = { code: 0, stdout: '', stderr: '' };
  const started = Date.now();
  const leaked = await netnsOfThisState(r, async () => {
    o = await r.tscni(['run', '-d', '--network', 'tnet', '-p', '18090:80', '--name', 'rt', '--runtime', '/nonexistent/runc', '--rootfs', rootfs, 'img', 'true']);
  });
  const took = Date.now() - started;
  t.is(o.code, 125);
  t.is(o.stderr, 'tscni: cannot run the container: the runtime /nonexistent/runc is not an executable file\n');
  t.is(o.stdout, '');
  t.true(took < 5000, `took ${took} ms`);
  t.deepEqual(leaked, []);
  t.deepEqual(leftovers(r), NOTHING);

  // A directory is not a runtime either, and TSCNI_RUNTIME is checked the same way (on PATH for a bare name).
  const dir = await r.tscni(['run', '-d', '--network', 'tnet', '--runtime', r.dir, '--rootfs', rootfs, 'img', 'true']);
  t.is(dir.code, 125);
  t.is(dir.stderr, `tscni: cannot run the container: the runtime ${r.dir} is not an executable file\n`);
  const env = await r.tscni(['run', '-d', '--network', 'tnet', '--rootfs', rootfs, 'img', 'true'], { TSCNI_RUNTIME: 'no-such-runc' });
  t.is(env.code, 125);
  t.is(env.stderr, 'tscni: cannot run the container: the runtime no-such-runc is not an executable file on PATH (/usr/sbin:/usr/bin:/sbin:/bin)\n');
  t.deepEqual(leftovers(r), NOTHING);
});

test('run --name: Docker\'s characters, at most 63 of them; refused names create nothing', async (t) => {
  if (!requireRoot(t)) return;
  const r = setup(t, 'vn');
  const rootfs = join(r.dir, 'rootfs');
  mkdirSync(rootfs);
  const run = (name: string) => r.tscni(['run', '-d', '--network', 'tnet', '--name', name, '--rootfs', rootfs, 'img', 'true']);

  let long = { code: 0, stdout: '', stderr: '' };
  const leaked = await netnsOfThisState(r, async () => {
    long = await run('a'.repeat(300));
  });
  t.is(long.code, 2);
  t.is(long.stderr, 'tscni: invalid --name "aaaaaaaaaaaaaaaaaaaa..." (300 characters): at most 63, as it is the container\'s host name in /etc/hosts\n');
  t.deepEqual(leaked, []);

  const sixtyFour = await run('b'.repeat(64));
  t.is(sixtyFour.code, 2);
  t.is(sixtyFour.stderr, 'tscni: invalid --name "bbbbbbbbbbbbbbbbbbbb..." (64 characters): at most 63, as it is the container\'s host name in /etc/hosts\n');

  for (const [name, shown] of [['-web', '"-web"'], ['.web', '".web"'], ['web/1', '"web/1"'], ['wéb', '"wéb"'], ['', '""']]) {
    const o = await run(name);
    t.is(o.code, 2, name);
    t.is(o.stderr, `tscni: invalid --name ${shown}: letters, digits, _ . - only, starting with a letter or digit\n`, name);
  }
  t.deepEqual(leftovers(r), NOTHING);

  // 63 characters of Docker's set pass validation: a dry run gets to the network plan and changes nothing.
  const ok = await r.tscni(['run', '--dry-run', '--network', 'tnet', '--name', `w${'_.-9'.repeat(15)}ab`, '--rootfs', rootfs, 'img', 'true']);
  t.is(ok.code, 0, ok.stderr);
  t.true(ok.stdout.startsWith(`# dry run: container w${'_.-9'.repeat(15)}ab on network tnet (`));
  t.deepEqual(leftovers(r), NOTHING);
});

test('a runtime that vanished after run: start fails at once with 125 naming it, and rm still cleans up', async (t) => {
  if (!requireRoot(t)) return;
  const r = setup(t, 'vg');
  const runc = join(r.dir, 'runc-copy');
  copyFileSync(execFileSync('which', ['runc'], { encoding: 'utf8' }).trim(), runc);
  chmodSync(runc, 0o755);
  const run = await r.tscni(['run', '-d', '--network', 'tnet', '--name', 'gone', '--runtime', runc, 'busybox', 'sleep', '1000']);
  t.is(run.code, 0, run.stderr);
  t.is((await r.tscni(['stop', '-t', '0', 'gone'])).code, 0);
  rmSync(runc);
  const started = Date.now();
  const again = await r.tscni(['start', 'gone']);
  t.is(again.code, 125);
  t.is(again.stderr.split('\n').filter((l) => !l.startsWith('[trace')).join('\n'), `tscni: ${runc} could not start the container: ${runc}: spawn ${runc} ENOENT\n`);
  t.true(Date.now() - started < 10_000);
  t.is((await r.tscni(['rm', 'gone'])).code, 0);
  t.deepEqual(leftovers(r), NOTHING);
});
