// run's process and /etc flags on runc: -w, -u, --entrypoint, --env-file, --add-host, --dns, --dns-search,
// --label, --cap-add/--cap-drop and --read-only, read back from inside the container; bad values refused.

import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireRoot } from '../../helpers/netns.ts';
import { makeRunnerEnv, testNetwork, writeConf } from './harness.ts';

test.serial('run -w -u --entrypoint --env-file --add-host --dns --label --cap-* --read-only', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'op');
  writeConf(r, '10-tnet.conflist', testNetwork(r, 'tnet', 'tscnitop', '10.99.56.0/24'));
  const envFile = join(r.dir, 'env');
  writeFileSync(envFile, '# comment\nFROMFILE=file value\n\nOTHER=1\n');
  const a = await r.tscni(['run', '--network', 'tnet', '--name', 'o', '-w', '/tmp', '-u', '65534:65534', '--entrypoint', 'sh', '--env-file', envFile,
    '--add-host', 'db:10.1.2.3', '--dns', '10.0.0.53', '--dns-search', 'example.test', '--dns-option', 'ndots:2', '--label', 'team=net', '--cap-drop', 'ALL', '--cap-add', 'net_admin',
    'busybox', '-c', 'pwd; id -u; id -g; echo "$FROMFILE"; grep -w db /etc/hosts; grep -v "^#" /etc/resolv.conf; grep CapBnd /proc/self/status']);
  t.is(a.code, 0, a.stderr);
  // A non-root process has no effective capabilities (as under docker): the bounding set shows what -cap-* left.
  t.is(a.stdout, '/tmp\n65534\n65534\nfile value\n10.1.2.3\tdb\nnameserver 10.0.0.53\nsearch example.test\noptions ndots:2\nCapBnd:\t0000000000001000\n');
  const info = JSON.parse((await r.tscni(['inspect', 'o'])).stdout)[0];
  t.deepEqual([info.Config.Labels, info.Config.User, info.HostConfig.CapDrop, info.HostConfig.CapAdd, info.HostConfig.ExtraHosts], [{ team: 'net' }, '65534:65534', ['ALL'], ['CAP_NET_ADMIN'], ['db:10.1.2.3']]);
  const ro = await r.tscni(['run', '--rm', '--network', 'tnet', '--read-only', '--tmpfs', '/scratch', 'busybox', 'sh', '-c', 'touch /x || echo refused; touch /scratch/y && echo tmpfs-ok']);
  t.deepEqual([ro.code, ro.stdout], [0, 'refused\ntmpfs-ok\n'], ro.stderr);
  t.regex(ro.stderr, /Read-only file system/);
  for (const [flags, message] of [
    [['-u', 'nobody'], 'invalid --user "nobody": expected UID[:GID] (numbers; names are not looked up)'],
    [['-w', 'tmp'], 'invalid --workdir "tmp": must be absolute'],
    [['--cap-add', 'FLY'], 'invalid --cap-add "FLY": unknown capability'],
    [['--add-host', 'db'], 'invalid --add-host "db": expected HOST:IP'],
    [['--dns', 'resolver'], 'invalid --dns "resolver": expected an IP address'],
    [['--env-file', join(r.dir, 'none')], `invalid --env-file ${join(r.dir, 'none')}: ENOENT`],
  ] as [string[], string][]) {
    const o = await r.tscni(['run', '--network', 'tnet', ...flags, 'busybox', 'true']);
    t.deepEqual([o.code, o.stderr], [2, `tscni: ${message}\n`]);
  }
  t.is((await r.tscni(['rm', 'o'])).code, 0);
});

test.serial('--init: tini is PID 1, forwards SIGTERM to a shell that would ignore it, reaps zombies; missing tini refused', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'oi');
  writeConf(r, '10-tnet.conflist', testNetwork(r, 'tnet', 'tscnitoi', '10.99.104.0/24'));
  // The subshell's background sleep is orphaned to PID 1 and exits after 0.2 s: tini reaps it, an exec'd sleep does not.
  const orphan = '(sleep 0.2 &); exec sleep 1000';
  const zombies = ['sh', '-c', 'grep -l "^State:.Z" /proc/[0-9]*/status | wc -l'];
  for (const [name, flags] of [['init', ['--init']], ['bare', []]] as [string, string[]][]) {
    t.is((await r.tscni(['run', '-d', ...flags, '--name', name, '--network', 'tnet', 'busybox', 'sh', '-c', orphan])).code, 0);
  }
  await new Promise((res) => setTimeout(res, 1000));
  t.is((await r.tscni(['exec', 'init', 'cat', '/proc/1/cmdline'])).stdout, `/sbin/docker-init\0--\0sh\0-c\0${orphan}\0`);
  t.deepEqual([(await r.tscni(['exec', 'init', ...zombies])).stdout, (await r.tscni(['exec', 'bare', ...zombies])).stdout], ['0\n', '1\n']);
  t.is(JSON.parse((await r.tscni(['inspect', 'init'])).stdout)[0].HostConfig.Init, true);
  t.is((await r.tscni(['rm', '-f', 'init', 'bare'])).code, 0);

  // A shell looping as PID 1 ignores SIGTERM (stop waits, then kills: 137); behind tini it dies of it at once (143).
  const loop = ['busybox', 'sh', '-c', 'while :; do sleep 0.1; done'];
  t.is((await r.tscni(['run', '-d', '--init', '--name', 'fast', '--network', 'tnet', ...loop])).code, 0);
  t.is((await r.tscni(['run', '-d', '--name', 'slow', '--network', 'tnet', ...loop])).code, 0);
  let since = Date.now();
  t.is((await r.tscni(['stop', '-t', '5', 'fast'])).code, 0);
  t.true(Date.now() - since < 2000, `stop behind tini took ${Date.now() - since} ms`);
  since = Date.now();
  t.is((await r.tscni(['stop', '-t', '1', 'slow'])).code, 0);
  t.true(Date.now() - since >= 1000, 'the bare shell outlived the SIGTERM');
  const codes = await Promise.all(['fast', 'slow'].map(async (n) => JSON.parse((await r.tscni(['inspect', n])).stdout)[0].State.ExitCode));
  t.deepEqual(codes, [143, 137]);
  t.is((await r.tscni(['rm', 'fast', 'slow'])).code, 0);

  const missing = await r.tscni(['run', '--init', '--name', 'noinit', '--network', 'tnet', 'busybox', 'true'], { TSCNI_INIT_PATH: join(r.dir, 'no-tini') });
  t.deepEqual([missing.code, missing.stderr], [125, `tscni: --init needs ${join(r.dir, 'no-tini')} (a static tini), which is not installed: apt-get install tini\n`]);
  t.is((await r.tscni(['ps', '-a', '-q'])).stdout, '');
});
