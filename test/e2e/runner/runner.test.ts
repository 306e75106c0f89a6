// tscni run/ps/inspect/logs/exec/stop/start/rm on runc inside a private host netns: HTTP through a published port
// from 127.0.0.1 and from another netns, exit codes recorded, nothing left behind, failed runs undone, networks.

import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ipJson, makeNetns, requireRoot } from '../../helpers/netns.ts';
import { leased, makeRunnerEnv, mountsUnder, testNetwork, TSCNI, writeConf, type RunnerEnv, ok } from './harness.ts';

const SUBNET = '10.99.41.0/24';

function setup(t: any, role: string): RunnerEnv {
  const r = makeRunnerEnv(t, role);
  writeConf(r, '10-tnet.conflist', testNetwork(r, 'tnet', `tscnit${role}`, SUBNET));
  return r;
}

/** Everything a container could leave behind, read with other tools than tscni. */
function leftovers(r: RunnerEnv, id: string, ip: string) {
  return {
    netns: existsSync(`/var/run/netns/${id}`),
    veths: ipJson(r.host, ['link', 'show', 'type', 'veth']).length,
    lease: ip ? leased(r.ipam, 'tnet', ip) : false,
    nft: ip ? r.host.run(['/usr/sbin/nft', 'list', 'ruleset']).includes(ip) : false,
    mounts: mountsUnder(r.dir).length,
    cache: existsSync(join(r.cache, 'results')) ? readdirSync(join(r.cache, 'results')).length : 0,
    stateDirs: existsSync(join(r.state, 'containers')) ? readdirSync(join(r.state, 'containers')).filter((n) => n !== 'index.json').length : 0,
    index: existsSync(join(r.state, 'containers', 'index.json')) ? JSON.parse(readFileSync(join(r.state, 'containers', 'index.json'), 'utf8')).containers.length : 0,
  };
}
const NOTHING = { netns: false, veths: 0, lease: false, nft: false, mounts: 0, cache: 0, stateDirs: 0, index: 0 };

async function curl(ns: { try(argv: string[]): { status: number; stdout: string; stderr: string } }, url: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const r = ns.try(['curl', '-fsS', '-m', '2', url]);
    if (r.status === 0) return r.stdout;
    await new Promise((res) => setTimeout(res, 100));
  }
  return ns.try(['curl', '-fsS', '-m', '2', url]).stderr;
}

const PAGE = '<!doctype html>\n<title>tscni</title>\n<h1>Hello from busybox httpd in a tscni container</h1>\n';

test.serial('run -d -p: HTTP from 127.0.0.1 and from another netns, inspect, logs with timestamps, exec, rm leaves nothing', async (t) => {
  if (!requireRoot(t)) return;
  const r = setup(t, 'rw');
  const run = await ok(t, r, ['run', '-d', '-p', '18080:80', '--network', 'tnet', '--name', 'web', '--hostname', 'webhost', 'busybox', 'httpd', '-f', '-v', '-p', '80', '-h', '/www']);
  const id = run.stdout.trim();
  t.regex(id, /^[0-9a-f]{64}$/);

  // From the private host's own loopback.
  t.is(await curl(r.host, 'http://127.0.0.1:18080/'), PAGE);
  // From another netns through a veth to the host.
  const client = makeNetns(t, 'rwcl');
  r.host.run(['ip', 'link', 'add', 'tscnitcl', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client.name]);
  r.host.run(['ip', 'addr', 'add', '192.168.77.1/24', 'dev', 'tscnitcl']);
  r.host.run(['ip', 'link', 'set', 'tscnitcl', 'up']);
  client.run(['ip', 'addr', 'add', '192.168.77.2/24', 'dev', 'eth0']);
  client.run(['ip', 'link', 'set', 'eth0', 'up']);
  t.is(await curl(client, 'http://192.168.77.1:18080/'), PAGE);

  // inspect against the kernel's view of the container netns.
  const info = JSON.parse((await ok(t, r, ['inspect', 'web'])).stdout)[0];
  const ctr = { name: id, path: `/var/run/netns/${id}`, run: (a: string[]) => r.host.run(['ip', 'netns', 'exec', id, ...a]) };
  const eth0 = JSON.parse(ctr.run(['ip', '-j', 'addr', 'show', 'eth0']))[0];
  const inet = eth0.addr_info.find((a: any) => a.family === 'inet');
  t.is(info.Id, id);
  t.is(info.Name, '/web');
  t.is(info.State.Status, 'running');
  t.is(info.NetworkSettings.IPAddress, inet.local);
  t.is(info.NetworkSettings.IPPrefixLen, 24);
  t.is(info.NetworkSettings.Gateway, '10.99.41.1');
  t.is(info.NetworkSettings.MacAddress, eth0.address);
  t.deepEqual(info.NetworkSettings.Ports, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '18080' }] });
  t.regex(inet.local, /^10\.99\.41\.\d+$/);

  // /etc files and exec.
  t.is((await ok(t, r, ['exec', 'web', 'cat', '/etc/hostname'])).stdout, 'webhost\n');
  t.regex((await ok(t, r, ['exec', 'web', 'cat', '/etc/hosts'])).stdout, new RegExp(`^${inet.local.replace(/\./g, '\\.')}\twebhost web$`, 'm'));
  t.notRegex((await ok(t, r, ['exec', 'web', 'cat', '/etc/resolv.conf'])).stdout, /nameserver 127\./);

  // logs: httpd -v prints each request on stderr (from 127.0.0.1 it arrives masqueraded from the gateway); -t adds the time.
  const logs = await r.tscni(['logs', '-t', 'web']);
  t.is(logs.code, 0);
  t.regex(logs.stderr, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[::ffff:10\.99\.41\.1\]:\d+: response:200\n\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[::ffff:192\.168\.77\.2\]:\d+: response:200\n$/);
  t.is(logs.stdout, '');
  t.regex((await ok(t, r, ['logs', 'web'])).stderr, /^\[::ffff:10\.99\.41\.1\]:\d+: response:200\n\[::ffff:192\.168\.77\.2\]:\d+: response:200\n$/);

  const ps = JSON.parse((await ok(t, r, ['ps', '--json'])).stdout);
  t.deepEqual(ps.map((c: any) => [c.Name, c.State, c.IPAddress]), [['web', 'running', inet.local]]);

  const ip = inet.local;
  t.true(leased(r.ipam, 'tnet', ip));
  t.true(r.host.run(['/usr/sbin/nft', 'list', 'ruleset']).includes(ip));
  await ok(t, r, ['rm', '-f', 'web']);
  t.deepEqual(leftovers(r, id, ip), { ...NOTHING, veths: 1 }, 'only the client veth remains');
  t.is((await r.tscni(['logs', 'web'])).stderr, 'tscni: no such container: web\n');
});

test.serial('exit codes are recorded; stop releases the network; start brings it back; ps -a tells', async (t) => {
  if (!requireRoot(t)) return;
  const r = setup(t, 'rx');
  const ex = (await ok(t, r, ['run', '-d', '--network', 'tnet', '--name', 'three', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3'])).stdout.trim();
  let three: any;
  for (let i = 0; i < 100; i++) {
    three = JSON.parse((await ok(t, r, ['ps', '-a', '--json'])).stdout).find((c: any) => c.Name === 'three');
    if (three.State === 'exited') break;
    await new Promise((res) => setTimeout(res, 50));
  }
  t.is(three.ExitCode, 3);
  t.regex(three.Status, /^Exited \(3\) (Less than a second|\d+ seconds?) ago$/);
  const table = (await ok(t, r, ['ps', '-a'])).stdout;
  t.regex(table, /^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES\n/);
  t.regex(table, /Exited \(3\) .* ago +three\n/);
  const logs = await ok(t, r, ['logs', 'three']);
  t.is(logs.stdout, 'out\n');
  t.is(logs.stderr, 'err\n');
  t.false(existsSync(`/var/run/netns/${ex}`), 'the monitor released the netns when the process exited');

  // logs -f follows until the process exits.
  await ok(t, r, ['run', '-d', '--network', 'tnet', '--name', 'slow', 'busybox', 'sh', '-c', 'echo one; sleep 1; echo two']);
  const followed = await ok(t, r, ['logs', '-f', 'slow']);
  t.is(followed.stdout, 'one\ntwo\n');
  t.is(JSON.parse((await ok(t, r, ['inspect', 'slow'])).stdout)[0].State.ExitCode, 0);
  await ok(t, r, ['rm', 'slow']);

  // A process that exits 7 on SIGTERM: stop records 7 and releases everything but the state.
  const svc = (await ok(t, r, ['run', '-d', '-p', '18081:80', '--network', 'tnet', '--name', 'svc', 'busybox', 'sh', '-c', 'trap "exit 7" TERM; httpd -p 80 -h /www; while :; do sleep 0.1; done'])).stdout.trim();
  t.is(await curl(r.host, 'http://127.0.0.1:18081/'), PAGE);
  const ip = JSON.parse((await ok(t, r, ['inspect', 'svc'])).stdout)[0].NetworkSettings.IPAddress;
  await ok(t, r, ['stop', '-t', '5', 'svc']);
  const svcInfo = JSON.parse((await ok(t, r, ['inspect', 'svc'])).stdout)[0];
  t.is(svcInfo.State.Status, 'exited');
  t.is(svcInfo.State.ExitCode, 7);
  t.false(existsSync(`/var/run/netns/${svc}`));
  t.false(leased(r.ipam, 'tnet', ip));
  t.false(r.host.run(['/usr/sbin/nft', 'list', 'ruleset']).includes(ip));
  t.is(mountsUnder(r.dir).length, 0);
  t.not(r.host.try(['curl', '-sS', '-m', '1', 'http://127.0.0.1:18081/']).status, 0);

  await ok(t, r, ['start', 'svc']);
  t.is(await curl(r.host, 'http://127.0.0.1:18081/'), PAGE);
  await ok(t, r, ['rm', '-f', 'svc', 'three']);
  t.deepEqual(leftovers(r, svc, ip), NOTHING);
});

test.serial('failed runs leave nothing: bad command, port already allocated, unknown image, name in use', async (t) => {
  if (!requireRoot(t)) return;
  const r = setup(t, 'rf');
  const bad = await r.tscni(['run', '-d', '--network', 'tnet', '-p', '18082:80', '--name', 'bad', 'busybox', '/nonexistent']);
  t.is(bad.code, 125);
  t.regex(bad.stderr, /^tscni: runc could not start the container: .*\/nonexistent.*no such file or directory\n$/);
  t.deepEqual(leftovers(r, 'none', '10.99.41.2'), NOTHING);
  t.deepEqual(JSON.parse((await ok(t, r, ['ps', '-a', '--json'])).stdout), []);

  await ok(t, r, ['run', '-d', '--network', 'tnet', '-p', '18082:80', '--name', 'a', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www']);
  const clash = await r.tscni(['run', '-d', '--network', 'tnet', '-p', '18082:80', '--name', 'b', 'busybox', 'httpd', '-f', '-p', '80']);
  t.is(clash.code, 4);
  t.is(clash.stderr, 'tscni: Bind for 0.0.0.0:18082 failed: port is already allocated (by container a)\n');
  const same = await r.tscni(['run', '-d', '--network', 'tnet', '--name', 'a', 'busybox', 'true']);
  t.is(same.code, 4);
  t.is(same.stderr, 'tscni: the container name "a" is already in use: remove it first (tscni rm -f a)\n');
  const img = await r.tscni(['run', '-d', '--pull', 'never', '--network', 'tnet', 'nosuch']);
  t.is(img.code, 3);
  t.is(img.stderr, 'tscni: image nosuch not found: pull it (tscni pull nosuch), build busybox (tscni image build-busybox) or load an archive (tscni load FILE)\n');
  const unreachable = await r.tscni(['run', '-d', '--network', 'tnet', '127.0.0.1:1/nosuch']);
  t.is(unreachable.code, 1);
  t.is(unreachable.stderr, "Unable to find image '127.0.0.1:1/nosuch' locally\ntscni: cannot reach registry 127.0.0.1:1 (http://127.0.0.1:1/v2/nosuch/manifests/latest): ECONNREFUSED\n");
  const net = await r.tscni(['run', '-d', '--network', 'nonet', 'busybox', 'true']);
  t.is(net.code, 3);
  t.deepEqual(JSON.parse((await ok(t, r, ['ps', '-a', '--json'])).stdout).map((c: any) => c.Name), ['a']);
  t.is(ipJson(r.host, ['link', 'show', 'type', 'veth']).length, 1);
  await ok(t, r, ['rm', '-f', 'a']);
  t.deepEqual(leftovers(r, 'none', ''), NOTHING);
});

test.serial('network create refuses overlaps; run --network attaches to it; network rm', async (t) => {
  if (!requireRoot(t)) return;
  const r = setup(t, 'rn');
  const overlap = await r.tscni(['network', 'create', 'n2', '--subnet', '10.99.41.128/25']);
  t.is(overlap.code, 4);
  t.is(overlap.stderr, 'tscni: subnet 10.99.41.128/25 overlaps 10.99.41.0/24 of network tnet\n');
  await ok(t, r, ['network', 'create', 'n2', '--subnet', '10.99.42.0/24', '--bridge', 'tscnitrn2']);
  const conf = JSON.parse(readFileSync(join(r.netconf, '20-n2.conflist'), 'utf8'));
  t.deepEqual(conf.plugins.map((p: any) => p.type), ['bridge', 'portmap']);
  t.deepEqual(conf.plugins[0].ipam, { type: 'host-local', ranges: [[{ subnet: '10.99.42.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] });
  const ls = JSON.parse((await ok(t, r, ['network', 'ls', '--json'])).stdout).filter((n: any) => n.name !== 'tscni');
  t.deepEqual(ls.map((n: any) => [n.name, n.bridge, n.subnets]), [['tnet', 'tscnitrn', ['10.99.41.0/24']], ['n2', 'tscnitrn2', ['10.99.42.0/24']]]);
  await ok(t, r, ['run', '-d', '--network', 'n2', '--name', 'x', '-p', '18083:80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www']);
  const info = JSON.parse((await ok(t, r, ['inspect', 'x'])).stdout)[0];
  t.regex(info.NetworkSettings.IPAddress, /^10\.99\.42\.\d+$/);
  t.is(info.NetworkSettings.Gateway, '10.99.42.1');
  t.is(ipJson(r.host, ['addr', 'show', 'tscnitrn2'])[0].addr_info.find((a: any) => a.family === 'inet').local, '10.99.42.1');
  t.is(await curl(r.host, 'http://127.0.0.1:18083/'), PAGE);
  const busy = await r.tscni(['network', 'rm', 'n2']);
  t.is(busy.code, 4);
  await ok(t, r, ['rm', '-f', 'x']);
  await ok(t, r, ['network', 'rm', 'n2']);
  t.false(existsSync(join(r.netconf, '20-n2.conflist')));
});

test.serial('20 containers started in parallel are all reachable, then all removed cleanly', async (t) => {
  if (!requireRoot(t)) return;
  const r = setup(t, 'rp');
  const n = 20;
  const started = Date.now();
  const runs = await Promise.all(Array.from({ length: n }, (_, i) => r.tscni(['run', '-d', '--network', 'tnet', '--name', `p${i}`, '-p', `${18100 + i}:80`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www'])));
  t.log(`${n} parallel runs took ${Date.now() - started} ms`);
  for (const o of runs) t.is(o.code, 0, o.stderr);
  const ps = JSON.parse((await ok(t, r, ['ps', '--json'])).stdout);
  t.is(ps.length, n);
  t.is(new Set(ps.map((c: any) => c.IPAddress)).size, n, 'distinct addresses');
  for (let i = 0; i < n; i++) t.is(await curl(r.host, `http://127.0.0.1:${18100 + i}/`), PAGE, `p${i}`);
  const rm = await r.tscni(['rm', '-f', ...Array.from({ length: n }, (_, i) => `p${i}`)]);
  t.is(rm.code, 0, rm.stderr);
  t.deepEqual(leftovers(r, 'none', ''), NOTHING);
});

test.serial('foreground run streams output and exits with the code; --rm removes; a reboot-like loss is told and cleaned', async (t) => {
  if (!requireRoot(t)) return;
  const r = setup(t, 'rg');
  const fg = await r.tscni(['run', '--rm', '--network', 'tnet', 'busybox', 'sh', '-c', 'echo hello; echo oops >&2; exit 5']);
  t.is(fg.code, 5);
  t.is(fg.stdout, 'hello\n');
  t.is(fg.stderr, 'oops\n');
  t.deepEqual(JSON.parse((await ok(t, r, ['ps', '-a', '--json'])).stdout), []);

  const id = (await ok(t, r, ['run', '-d', '--network', 'tnet', '-p', '18097:80', '--name', 'rb', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www'])).stdout.trim();
  const ip = JSON.parse((await ok(t, r, ['inspect', 'rb'])).stdout)[0].NetworkSettings.IPAddress;
  // What a reboot takes away: the monitor, the runc container, the netns pin and the overlay mount.
  const state = JSON.parse(readFileSync(join(r.state, 'containers', id, 'state.json'), 'utf8'));
  process.kill(state.monitorPid, 'SIGKILL');
  execFileSync('runc', ['--root', join(r.state, 'runc'), 'delete', '--force', id]);
  execFileSync('ip', ['netns', 'del', id]);
  execFileSync('umount', [join(r.state, 'containers', id, 'rootfs')]);
  let rb: any;
  for (let i = 0; i < 50; i++) {
    rb = JSON.parse((await ok(t, r, ['ps', '-a', '--json'])).stdout)[0];
    if (rb.State === 'exited') break;
    await new Promise((res) => setTimeout(res, 100));
  }
  t.is(rb.State, 'exited');
  t.is(rb.ExitCode, 255);
  t.false(leased(r.ipam, 'tnet', ip), 'the lease is given back once the loss is noticed');
  t.false(r.host.run(['/usr/sbin/nft', 'list', 'ruleset']).includes(ip));
  await ok(t, r, ['rm', 'rb']);
  t.deepEqual(leftovers(r, id, ip), NOTHING);
});

test.serial('cgroup limits from --memory/--cpus/--pids-limit; rlimits are the current ones; the cgroup goes with rm', async (t) => {
  if (!requireRoot(t)) return;
  const r = setup(t, 'rl');
  const id = (await ok(t, r, ['run', '-d', '--network', 'tnet', '--name', 'lim', '--memory', '64m', '--cpus', '0.5', '--pids-limit', '50', 'busybox', 'sleep', '100'])).stdout.trim();
  const cg = (ctl: string, file: string) => readFileSync(`/sys/fs/cgroup/${ctl}/tscni/${id}/${file}`, 'utf8').trim();
  t.is(cg('memory', 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
  t.is(cg('cpu', 'cpu.cfs_quota_us'), '50000');
  t.is(cg('cpu', 'cpu.cfs_period_us'), '100000');
  t.is(cg('pids', 'pids.max'), '50');
  const mine = readFileSync('/proc/self/limits', 'utf8').split('\n').filter((l) => /open files|processes/.test(l));
  const theirs = (await ok(t, r, ['exec', 'lim', 'cat', '/proc/self/limits'])).stdout.split('\n').filter((l) => /open files|processes/.test(l));
  t.deepEqual(theirs, mine);
  await ok(t, r, ['rm', '-f', 'lim']);
  t.false(existsSync(`/sys/fs/cgroup/memory/tscni/${id}`));
});

test.serial('Ctrl-C during run undoes everything done so far', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'ri');
  // A slow last plugin gives the signal time to land mid-setup, after the bridge and host-local did their part.
  const fake = join(r.dir, 'fakebin');
  mkdirSync(fake);
  writeFileSync(join(fake, 'slow'), `#!/bin/bash\ncat >/dev/null\nif [ "$CNI_COMMAND" = ADD ]; then touch ${r.dir}/slow-started; sleep 2; echo '{"cniVersion":"1.0.0"}'; fi\nexit 0\n`);
  chmodSync(join(fake, 'slow'), 0o755);
  const net = testNetwork(r, 'tnet', 'tscnitri', SUBNET) as { cniVersion: string; plugins: unknown[] };
  net.cniVersion = '1.0.0';
  net.plugins.push({ type: 'slow' });
  writeConf(r, '10-tnet.conflist', net);
  r.env.CNI_PATH = `${r.env.CNI_PATH}:${fake}`;
  const child = spawn('nsenter', [`--net=${r.host.path}`, TSCNI, 'run', '-d', '--network', 'tnet', '-p', '18098:80', '--name', 'intr', 'busybox', 'httpd', '-f', '-p', '80'], { env: r.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<number>((res) => child.on('close', (code) => res(code ?? -1)));
  for (let i = 0; i < 100 && !existsSync(join(r.dir, 'slow-started')); i++) await new Promise((res) => setTimeout(res, 50));
  t.true(existsSync(join(r.dir, 'slow-started')));
  t.is(ipJson(r.host, ['link', 'show', 'type', 'veth']).length, 1, 'the bridge plugin had added the veth');
  child.kill('SIGINT');
  t.is(await done, 130);
  t.is(stderr, 'tscni: interrupted: cleaned up\n');
  t.deepEqual(leftovers(r, 'none', '10.99.41.2'), NOTHING);
});
