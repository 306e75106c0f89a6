// Volumes on runc: a named volume carries data from one container to the next and outlives them, a host
// directory (created when missing) is shared both ways, :ro refuses writes, tmpfs mounts, rm -v removes only
// anonymous volumes; bad specs are refused before anything exists.

import test from 'ava';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireRoot } from '../../helpers/netns.ts';
import { makeRunnerEnv, mountsUnder, testNetwork, writeConf, type RunnerEnv } from './harness.ts';

const run = (r: RunnerEnv, args: string[]) => r.tscni(['run', '--network', 'tnet', ...args]);
const volumes = async (r: RunnerEnv) => (await r.tscni(['volume', 'ls', '-q'])).stdout;
const containerDirs = (r: RunnerEnv) => (existsSync(join(r.state, 'containers')) ? readdirSync(join(r.state, 'containers')).filter((n) => /^[0-9a-f]{64}$/.test(n)) : []);

test.serial('named volumes, host dirs, :ro, tmpfs, rm -v and volume rm', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'vo');
  writeConf(r, '10-tnet.conflist', testNetwork(r, 'tnet', 'tscnitvo', '10.99.53.0/24'));

  const w = await run(r, ['--rm', '-v', 'data:/data', 'busybox', 'sh', '-c', 'echo written-by-one > /data/f']);
  t.is(w.code, 0, w.stderr);
  const rd = await run(r, ['--rm', '-v', 'data:/data:ro', 'busybox', 'cat', '/data/f']);
  t.deepEqual([rd.code, rd.stdout], [0, 'written-by-one\n'], rd.stderr);
  t.is(await volumes(r), 'data\n', 'run --rm keeps the named volume');
  t.is(readFileSync(join(r.state, 'volumes/data/_data/f'), 'utf8'), 'written-by-one\n');

  const host = join(r.dir, 'host/not/yet');
  const b = await run(r, ['--rm', '-v', `${host}:/h`, 'busybox', 'sh', '-c', 'echo from-container > /h/out']);
  t.is(b.code, 0, b.stderr);
  t.is(readFileSync(join(host, 'out'), 'utf8'), 'from-container\n', '-v created the missing host directory');
  writeFileSync(join(host, 'in'), 'from-host\n');
  const ro = await run(r, ['--rm', '-v', `${host}:/h:ro`, '--mount', `type=bind,src=${host},dst=/h2`, 'busybox', 'sh', '-c', 'cat /h/in; echo x > /h/no || echo refused; echo y > /h2/yes && echo ok']);
  t.is(ro.code, 0, ro.stderr);
  t.is(ro.stdout, 'from-host\nrefused\nok\n');
  t.regex(ro.stderr, /Read-only file system/);
  t.false(existsSync(join(host, 'no')));

  const copied = await run(r, ['--rm', '-v', 'site:/www', 'busybox', 'cat', '/www/index.html']);
  t.deepEqual([copied.code, copied.stdout], [0, '<!doctype html>\n<title>tscni</title>\n<h1>Hello from busybox httpd in a tscni container</h1>\n'], 'a new volume starts with the image\'s files');
  t.is((await r.tscni(['volume', 'rm', 'site'])).code, 0);

  const tm = await run(r, ['--rm', '--tmpfs', '/scratch:size=1m,mode=1777', '--mount', 'type=tmpfs,dst=/t2,tmpfs-size=2m', 'busybox', 'sh', '-c', 'grep -E " /(scratch|t2) " /proc/mounts | cut -d" " -f1-3']);
  t.deepEqual([tm.code, tm.stdout], [0, 'tmpfs /t2 tmpfs\ntmpfs /scratch tmpfs\n'], tm.stderr);

  const keep = await run(r, ['-d', '--name', 'keeper', '-v', 'data:/data', '-v', '/anon', 'busybox', 'sleep', '30']);
  t.is(keep.code, 0, keep.stderr);
  const anon = (await volumes(r)).split('\n').filter((v) => /^[0-9a-f]{64}$/.test(v));
  t.is(anon.length, 1);
  const busy = await r.tscni(['volume', 'rm', 'data']);
  t.deepEqual([busy.code, busy.stderr], [4, 'tscni: volume data is in use by container(s) keeper\n']);
  t.is((await r.tscni(['rm', '-f', '-v', 'keeper'])).code, 0);
  t.is(await volumes(r), 'data\n', 'rm -v removed the anonymous volume and kept the named one');
  const inspect = JSON.parse((await r.tscni(['volume', 'inspect', 'data'])).stdout);
  t.deepEqual([inspect[0].Name, inspect[0].Mountpoint], ['data', join(r.state, 'volumes/data/_data')]);
  t.deepEqual((await r.tscni(['volume', 'rm', 'data'])).stdout, 'data\n');
  t.is(await volumes(r), '');
  t.deepEqual(mountsUnder(r.dir), []);
});

test.serial('bad volume specs are refused with a clear message and leave nothing', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'vb');
  writeConf(r, '10-tnet.conflist', testNetwork(r, 'tnet', 'tscnitvb', '10.99.54.0/24'));
  const missing = join(r.dir, 'missing');
  const cases: [string[], string][] = [
    [['-v', '../etc:/x'], 'invalid -v "../etc:/x": a host path must be absolute; a volume name has no / and does not start with .'],
    [['-v', 'data:relative'], 'invalid -v "data:relative": the container path must be absolute'],
    [['-v', 'data:/x:rx'], 'invalid -v "data:/x:rx": unknown mode "rx" (ro or rw)'],
    [['-v', 'a:/x:ro:z'], 'invalid -v "a:/x:ro:z": expected [SOURCE:]TARGET[:ro|rw]'],
    [['-v', '/h:/'], 'invalid -v "/h:/": cannot mount over the container\'s /'],
    [['-v', 'xx:/a', '--tmpfs', '/a'], 'duplicate mount point /a'],
    [['-v', 'x:/a'], 'invalid -v "x:/a": volume name "x": 2-128 of letters, digits, _ . - starting with a letter or digit'],
    [['--mount', `type=bind,src=${missing},dst=/m`], `invalid --mount: bind source path ${missing} does not exist`],
    [['--mount', 'type=nfs,dst=/m'], 'invalid --mount "type=nfs,dst=/m": type must be bind, volume or tmpfs'],
    [['--mount', 'type=volume,src=a/b,dst=/m'], 'invalid --mount "type=volume,src=a/b,dst=/m": volume name "a/b": 2-128 of letters, digits, _ . - starting with a letter or digit'],
    [['--tmpfs', '/t:exec;rm'], 'invalid --tmpfs "/t:exec;rm": unknown tmpfs option "exec;rm"'],
  ];
  for (const [flags, message] of cases) {
    const o = await run(r, [...flags, 'busybox', 'true']);
    t.deepEqual([o.code, o.stderr], [2, `tscni: ${message}\n`], flags.join(' '));
  }
  const esc = await r.tscni(['volume', 'create', '..']);
  t.deepEqual([esc.code, esc.stderr], [2, 'tscni: invalid volume name "..": 2-128 of letters, digits, _ . - starting with a letter or digit\n']);
  const gone = await r.tscni(['volume', 'rm', 'nope']);
  t.deepEqual([gone.code, gone.stderr], [3, 'tscni: no such volume: nope\n']);
  t.is(await volumes(r), '');
  t.deepEqual(containerDirs(r), []);
  t.false(existsSync(missing));
});
