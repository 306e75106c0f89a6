// tscni pull / run from a real OCI distribution registry (Debian's docker-registry on 127.0.0.1 in the test's
// netns, filled by the test's own push client): index by platform, OCI and docker schema2 manifests, layers
// shared by digest, pull-on-run, rmi/prune; and faults: a corrupted blob, a registry dying mid-layer, token auth.

import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { requireRoot } from '../../helpers/netns.ts';
import { PAGE } from '../../helpers/busybox-tar.ts';
import { pushBusybox, pushLayered, startFront, startRegistry } from '../../helpers/clients/registry.ts';
import { makeRunnerEnv, testNetwork, TSCNI, writeConf, type RunnerEnv } from './harness.ts';

/** What the image store holds on disk besides its index and lock: layer dirs and anything half-done. */
function stored(r: RunnerEnv): { layers: string[]; other: string[] } {
  const root = join(r.state, 'images');
  const layersDir = join(root, 'layers');
  return {
    layers: existsSync(layersDir) ? readdirSync(layersDir).sort() : [],
    other: existsSync(root) ? readdirSync(root).filter((n) => !['index.json', 'layers'].includes(n)) : [],
  };
}

const images = async (r: RunnerEnv) => JSON.parse((await r.tscni(['images', '--json'])).stdout) as any[];

test.serial('pull by platform, schema2 and OCI sharing a layer, pull-on-run, rmi, prune', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'pl');
  writeConf(r, '10-tnet.conflist', testNetwork(r, 'tnet', 'tscnitpl', '10.99.52.0/24'));
  const reg = await startRegistry(t, r.host, r.dir);
  const bb = pushBusybox(reg, join(r.dir, 'push'), 'tools/busybox', ['v2', 'onrun']);
  const ref = `${reg.host}/tools/busybox`;

  const multi = await r.tscni(['pull', `${ref}:multi`]);
  t.is(multi.code, 0, multi.stderr);
  t.is(multi.stdout, `Digest: ${bb.amd64.digest}\nStatus: Downloaded newer image for ${ref}:multi\n${ref}:multi\n`);
  t.is(multi.stderr, '', 'no progress when stderr is not a TTY');
  t.deepEqual(stored(r), { layers: [bb.diffId.replace(':', '-')], other: [] });
  t.deepEqual((await images(r)).map((i) => [i.repo, i.tag, i.digest, i.layers, i.config.Cmd]), [[ref, 'multi', bb.amd64.digest, [bb.diffId], ['httpd', '-f', '-p', '80', '-h', '/www']]]);

  const v2 = await r.tscni(['pull', '-q', `${ref}:v2`]);
  t.deepEqual([v2.code, v2.stdout, v2.stderr], [0, `${ref}:v2\n`, '']);
  t.is(stored(r).layers.length, 1, 'the schema2 image shares the OCI image\'s layer');

  const arm = await r.tscni(['pull', '-q', '--platform', 'linux/arm64', `${ref}:multi`]);
  t.is(arm.code, 0, arm.stderr);
  t.deepEqual((await images(r)).find((i) => i.tag === 'multi').config.Cmd, ['echo', 'arm64']);
  const none = await r.tscni(['pull', '--platform', 'linux/s390x', `${ref}:multi`]);
  t.deepEqual([none.code, none.stderr], [3, `tscni: no manifest for linux/s390x in ${ref}:multi (it has: linux/arm64/v8, linux/amd64)\n`]);
  const unknown = await r.tscni(['pull', `${ref}:nope`]);
  t.is(unknown.code, 3);
  t.regex(unknown.stderr, new RegExp(`^tscni: manifest for ${reg.host}/tools/busybox:nope not found \\(MANIFEST_UNKNOWN: manifest unknown\\)\\n$`));
  const bad = await r.tscni(['pull', `${reg.host}/Tools/busybox`]);
  t.deepEqual([bad.code, bad.stderr], [2, `tscni: invalid reference format "${reg.host}/Tools/busybox": repository names are lowercase letters, digits and separators (. _ __ -)\n`]);
  const byDigest = await r.tscni(['pull', '-q', `${ref}@${bb.amd64.digest}`]);
  t.deepEqual([byDigest.code, byDigest.stdout], [0, `${ref}@${bb.amd64.digest}\n`]);
  const d = await r.tscni(['run', '-d', '--network', 'tnet', '--name', 'bydigest', `${ref}@${bb.amd64.digest}`, 'sleep', '30']);
  t.is(d.code, 0, d.stderr);
  t.is((await r.tscni(['stop', '-t', '0', 'bydigest'])).code, 0);
  t.is((await r.tscni(['start', 'bydigest'])).code, 0, 'a container of an image pulled by digest starts again');
  t.is((await r.tscni(['rm', '-f', 'bydigest'])).code, 0);
  t.deepEqual(stored(r).other, [], 'failed pulls leave nothing');

  const run = await r.tscni(['run', '--rm', '--network', 'tnet', `${ref}:onrun`, 'cat', '/www/index.html']);
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout, PAGE);
  t.is(run.stderr, `Unable to find image '${ref}:onrun' locally\nDigest: ${bb.schema2.onrun.digest}\nStatus: Downloaded newer image for ${ref}:onrun\n`);

  const bg = await r.tscni(['run', '-d', '--network', 'tnet', '--name', 'user', `${ref}:v2`, 'sleep', '30']);
  t.is(bg.code, 0, bg.stderr);
  const inUse = await r.tscni(['rmi', `${ref}:v2`]);
  t.deepEqual([inUse.code, inUse.stderr], [4, `tscni: image ${ref}:v2 is in use by container(s) user\n`]);
  t.is((await r.tscni(['rm', '-f', 'user'])).code, 0);
  for (const tag of ['v2', 'onrun', 'multi']) t.is((await r.tscni(['rmi', `${ref}:${tag}`])).stdout, `Untagged: ${ref}:${tag}\n`);
  t.is((await r.tscni(['rmi', `${ref}@${bb.amd64.digest}`])).stdout, `Untagged: ${ref}@${bb.amd64.digest}\n`);
  t.deepEqual(await images(r), []);
  const prune = await r.tscni(['image', 'prune']);
  t.deepEqual([prune.code, prune.stdout], [0, 'Removed 0 image(s), 0 layer(s), 0 interrupted download(s)\n']);
  t.deepEqual(stored(r), { layers: [], other: [] });
});

test.serial('a corrupted blob and a registry dying mid-layer store nothing; Bearer token auth with tscni login', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'pf');
  const reg = await startRegistry(t, r.host, r.dir);
  const bb = pushBusybox(reg, join(r.dir, 'push'), 'busybox', []);
  const front = await startFront(t, r.host, reg.host);

  const corrupt = await r.tscni(['pull', `${front.corrupt}/busybox:amd64`]);
  t.is(corrupt.code, 1);
  t.regex(corrupt.stderr, new RegExp(`^tscni: blob ${bb.layer.digest} failed verification: its content has digest sha256:[0-9a-f]{64}; nothing was stored\\n$`));
  t.deepEqual(stored(r), { layers: [], other: [] });

  const dying = await r.tscni(['pull', `${front.dying}/busybox:amd64`]);
  t.is(dying.code, 1);
  t.regex(dying.stderr, new RegExp(`^tscni: (downloading blob ${bb.layer.digest} from ${front.dying} failed after \\d+ of ${bb.layer.size} bytes: .*|blob ${bb.layer.digest} ended after \\d+ of ${bb.layer.size} bytes: refused)\\n$`));
  t.deepEqual(stored(r), { layers: [], other: [] });
  t.deepEqual(await images(r), []);

  // A pull killed mid-layer: its download is left under .pull-PID-*, never under layers/; prune sweeps it.
  const killed = spawn('nsenter', [`--net=${r.host.path}`, TSCNI, 'pull', `${front.stalling}/busybox:amd64`], { env: r.env, stdio: 'ignore' });
  const partial = () => stored(r).other.filter((n) => n.startsWith('.pull-')).flatMap((n) => readdirSync(join(r.state, 'images', n)).map((f) => statSync(join(r.state, 'images', n, f)).size));
  for (let i = 0; i < 100 && !(partial()[0] > 0); i++) await new Promise((res) => setTimeout(res, 50));
  t.true(partial()[0] > 0 && partial()[0] < bb.layer.size, 'the download was under way');
  const gone = new Promise((res) => killed.once('exit', res));
  killed.kill('SIGKILL');
  await gone;
  t.deepEqual(stored(r).layers, [], 'no layer directory from a killed pull');
  const swept = await r.tscni(['image', 'prune']);
  t.deepEqual([swept.code, swept.stdout], [0, 'Removed 0 image(s), 0 layer(s), 1 interrupted download(s)\n']);
  t.deepEqual(stored(r), { layers: [], other: [] });
  // Ctrl-C mid-layer: the pull removes its download itself and exits 130.
  const interrupted = spawn('nsenter', [`--net=${r.host.path}`, TSCNI, 'pull', `${front.stalling}/busybox:amd64`], { env: r.env, stdio: 'ignore' });
  for (let i = 0; i < 100 && !(partial()[0] > 0); i++) await new Promise((res) => setTimeout(res, 50));
  const code = new Promise((res) => interrupted.once('exit', (c) => res(c)));
  interrupted.kill('SIGINT');
  t.is(await code, 130);
  t.deepEqual(stored(r), { layers: [], other: [] });

  const anonymous = await r.tscni(['pull', `${front.token}/busybox:multi`]);
  t.deepEqual([anonymous.code, anonymous.stderr], [1, `tscni: unauthorized: ${front.token} refused the credentials (none given: tscni login ${front.token})\n`]);
  const wrong = await r.tscni(['login', '-u', 'tester', '-p', 'guess', front.token]);
  t.deepEqual([wrong.code, wrong.stderr], [1, `tscni: unauthorized: ${front.token} refused the credentials\n`]);
  t.false(existsSync(join(r.state, 'auth.json')), 'refused credentials are not stored');
  const login = await r.tscni(['login', '-u', 'tester', '-p', 's3cret', front.token]);
  t.deepEqual([login.code, login.stdout], [0, 'Login Succeeded\n'], login.stderr);
  t.is(statSync(join(r.state, 'auth.json')).mode & 0o777, 0o600);
  const pulled = await r.tscni(['pull', '-q', `${front.token}/busybox:multi`]);
  t.deepEqual([pulled.code, pulled.stdout], [0, `${front.token}/busybox:multi\n`], pulled.stderr);
  t.deepEqual(stored(r).layers, [bb.diffId.replace(':', '-')]);
  t.is((await r.tscni(['logout', front.token])).stdout, `Removing login credentials for ${front.token}\n`);
});

test.serial('layers download three at once (a front counts them in flight); a registry dying mid-layer stops them all, storing nothing', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'pc');
  const reg = await startRegistry(t, r.host, r.dir);
  const img = pushLayered(reg, join(r.dir, 'push'), 'layered', 'v1', 5);
  const front = await startFront(t, r.host, reg.host);

  const dying = await r.tscni(['pull', `${front.dying}/layered:v1`]);
  t.is(dying.code, 1, dying.stderr);
  t.regex(dying.stderr, /^tscni: (downloading blob sha256:[0-9a-f]{64} from \S+ failed after \d+ of \d+ bytes: .*|blob sha256:[0-9a-f]{64} ended after \d+ of \d+ bytes: refused)\n$/);
  t.deepEqual(stored(r), { layers: [], other: [] });

  const ref = `${front.counting}/layered:v1`;
  const pulled = await r.tscni(['pull', ref]);
  t.deepEqual([pulled.code, pulled.stdout, pulled.stderr], [0, `Digest: ${img.manifest.digest}\nStatus: Downloaded newer image for ${ref}\n${ref}\n`, '']);
  const stats = JSON.parse(r.host.try(['curl', '-sS', `http://${front.counting}/stats`]).stdout);
  t.deepEqual(stats, { blobs: 6, maxInFlight: 3 }, 'six layers, never more than three and at some point three in flight');
  t.deepEqual(stored(r), { layers: img.diffIds.map((d) => d.replace(':', '-')).sort(), other: [] });
  const run = await r.tscni(['run', '--rm', '--network', 'none', ref]);
  t.deepEqual([run.code, run.stdout], [0, '1\n2\n3\n4\n5\n'], run.stderr);
  const again = await r.tscni(['pull', ref]);
  t.deepEqual([again.code, again.stdout], [0, `Digest: ${img.manifest.digest}\nStatus: Image is up to date for ${ref}\n${ref}\n`]);
  t.is(JSON.parse(r.host.try(['curl', '-sS', `http://${front.counting}/stats`]).stdout).blobs, 6, 'layers in the store are not fetched again');
});
