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
