// Restart policies on runc: on-failure:3 runs a failing process exactly 4 times, stop ends an always loop, and
// `tscni boot` after a simulated reboot (monitors and processes killed, netns gone, overlays unmounted, nft flushed,
// bridge deleted) brings back the always container with its name, address and published port, and only it.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ipJson, requireRoot } from '../../helpers/netns.ts';
import { makeRunnerEnv, mountsUnder, testNetwork, writeConf, type RunnerEnv } from './harness.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const inspect = async (r: RunnerEnv, name: string) => JSON.parse((await r.tscni(['inspect', name])).stdout)[0];

async function until(what: string, cond: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function setup(t: any, role: string): RunnerEnv {
  const r = makeRunnerEnv(t, role);
  writeConf(r, '10-tnet.conflist', testNetwork(r, 'tnet', `tscnit${role}`, '10.99.55.0/24'));
  return r;
}

test.serial('--restart on-failure:3 runs a process exiting 1 exactly 4 times; stop ends an always loop', async (t) => {
  if (!requireRoot(t)) return;
  const r = setup(t, 'rs');
  const bad = await r.tscni(['run', '--restart', 'sometimes', 'busybox', 'true']);
  t.deepEqual([bad.code, bad.stderr], [2, 'tscni: invalid --restart "sometimes": no, always, on-failure[:N] or unless-stopped\n']);
  const rm = await r.tscni(['run', '--rm', '--restart', 'always', 'busybox', 'true']);
  t.deepEqual([rm.code, rm.stderr], [2, 'tscni: conflicting options: --restart and --rm\n']);

  const f = await r.tscni(['run', '-d', '--network', 'tnet', '--name', 'f', '--restart', 'on-failure:3', 'busybox', 'sh', '-c', 'echo run; exit 1']);
  t.is(f.code, 0, f.stderr);
  await until('f to exit for good', async () => (await inspect(r, 'f')).State.Status === 'exited');
  const fi = await inspect(r, 'f');
  t.deepEqual([fi.RestartCount, fi.State.ExitCode, fi.HostConfig.RestartPolicy], [3, 1, { Name: 'on-failure', MaximumRetryCount: 3 }]);
  t.is((await r.tscni(['logs', 'f'])).stdout, 'run\nrun\nrun\nrun\n');

  const a = await r.tscni(['run', '-d', '--network', 'tnet', '--name', 'a', '--restart', 'always', 'busybox', 'sh', '-c', 'echo up; exit 0']);
  t.is(a.code, 0, a.stderr);
  await until('a to restart twice', async () => (await inspect(r, 'a')).RestartCount >= 2);
  t.is((await r.tscni(['stop', '-t', '1', 'a'])).code, 0);
  const stopped = await inspect(r, 'a');
  t.is(stopped.State.Status, 'exited');
  await sleep(1000);
  const later = await inspect(r, 'a');
  t.deepEqual([later.State.Status, later.RestartCount], ['exited', stopped.RestartCount], 'no restart after stop');
  t.is((await r.tscni(['rm', 'f', 'a'])).code, 0);
  t.deepEqual(mountsUnder(r.dir), []);
});

test.serial('tscni boot after a simulated reboot restarts always containers with name, address and port', async (t) => {
  if (!requireRoot(t)) return;
  const r = setup(t, 'bo');
  const web = await r.tscni(['run', '-d', '--network', 'tnet', '--name', 'web', '--restart', 'always', '-p', '18093:80', '-p', '[::1]:18094:80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www']);
  t.is(web.code, 0, web.stderr);
  t.is((await r.tscni(['run', '-d', '--network', 'tnet', '--name', 'plain', 'busybox', 'sleep', '300'])).code, 0);
  t.is((await r.tscni(['run', '-d', '--network', 'tnet', '--name', 'held', '--restart', 'unless-stopped', 'busybox', 'sleep', '300'])).code, 0);
  t.is((await r.tscni(['stop', '-t', '0', 'held'])).code, 0);
  const before = (await inspect(r, 'web')).NetworkSettings.IPAddress;
  t.regex(before, /^10\.99\.55\.\d+$/);

  // The reboot: every monitor and container process dies, and the kernel state goes with it.
  for (const name of ['web', 'plain']) {
    const id = (await inspect(r, name)).Id;
    const st = JSON.parse(readFileSync(join(r.state, 'containers', id, 'state.json'), 'utf8'));
    process.kill(st.monitorPid, 'SIGKILL');
    // web's [::1] proxy dies with the rest.
    if (name === 'web') process.kill(Number(readFileSync(join(r.state, 'containers', id, 'proxy.pid'), 'utf8')), 'SIGKILL');
    spawnSync('runc', ['--root', join(r.state, 'runc'), 'kill', id, 'KILL']);
  }
  await until('runc to see every container stopped', async () => {
    const out = spawnSync('runc', ['--root', join(r.state, 'runc'), 'list', '-f', 'json'], { encoding: 'utf8' }).stdout;
    return ((JSON.parse(out || 'null') ?? []) as { status: string }[]).every((c) => c.status === 'stopped');
  });
  for (const m of mountsUnder(r.dir).reverse()) spawnSync('umount', ['-l', m]);
  for (const n of spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0]).filter((n) => /^[0-9a-f]{64}$/.test(n))) {
    if (spawnSync('test', ['-d', join(r.state, 'containers', n)]).status === 0) spawnSync('ip', ['netns', 'del', n]);
  }
  r.host.run(['/usr/sbin/nft', 'flush', 'ruleset']);
  r.host.run(['ip', 'link', 'del', 'tscnitbo']);

  const boot = await r.tscni(['boot']);
  t.deepEqual([boot.code, boot.stdout], [0, 'web\n'], boot.stderr);
  const after = await inspect(r, 'web');
  t.deepEqual([after.State.Status, after.NetworkSettings.IPAddress], ['running', before]);
  t.is((await inspect(r, 'plain')).State.ExitCode, 255);
  t.is((await inspect(r, 'held')).State.Status, 'exited', 'unless-stopped stays down after a user stop');
  let body = '';
  for (let i = 0; i < 50 && !body; i++) {
    const c = r.host.try(['curl', '-fsS', '-m', '2', 'http://127.0.0.1:18093/']);
    body = c.status === 0 ? c.stdout : '';
    if (!body) await sleep(100);
  }
  t.regex(body, /Hello from busybox httpd/);
  // boot started a new [::1] proxy (the old pid file named a dead process).
  t.regex(r.host.run(['curl', '-gfsS', '-m', '2', 'http://[::1]:18094/']), /Hello from busybox httpd/);
  t.is((await r.tscni(['rm', '-f', 'web', 'plain', 'held'])).code, 0);
  t.deepEqual([mountsUnder(r.dir), ipJson(r.host, ['link', 'show', 'type', 'veth']).length, r.host.run(['ss', '-Hltn'])], [[], 0, '']);
});
