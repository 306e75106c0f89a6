// tscni create (docker create): run's flags, the name and ports reserved, nothing started; ps -a says Created;
// start brings it up in the network mode it was created with; rm of a created container leaves nothing; bad
// input is refused before anything exists.

import test from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ipJson, requireRoot } from '../../helpers/netns.ts';
import { curlUntil, makeRunnerEnv, NOTHING, ok, stateLeft, testNetwork, writeConf, type RunnerEnv, execUntil } from './harness.ts';

const PAGE = '<!doctype html>\n<title>tscni</title>\n<h1>Hello from busybox httpd in a tscni container</h1>\n';
const HTTPD = ['busybox', 'httpd', '-f', '-p', '80', '-h', '/www'];

function setup(t: any, role: string, subnet: string): RunnerEnv {
  const r = makeRunnerEnv(t, role);
  writeConf(r, '10-tnet.conflist', testNetwork(r, 'tnet', `tscnit${role}`, subnet));
  return r;
}


const psAll = async (t: any, r: RunnerEnv) => JSON.parse((await ok(t, r, ['ps', '-a', '--json'])).stdout).map((c: any) => [c.Name, c.State, c.Status, c.Network]);


test.serial('create on a user network: Created, holds name and port, nothing runs; start publishes; rm leaves nothing', async (t) => {
  if (!requireRoot(t)) return;
  const r = setup(t, 'cr', '10.99.71.0/24');
  const id = (await ok(t, r, ['create', '--network', 'tnet', '-p', '127.0.0.1:18281:80', '--name', 'made', ...HTTPD])).stdout.trim();
  t.regex(id, /^[0-9a-f]{64}$/);
  t.deepEqual(await psAll(t, r), [['made', 'created', 'Created', 'tnet']]);
  t.deepEqual(JSON.parse((await ok(t, r, ['ps', '--json'])).stdout), []);
  t.false(existsSync(`/var/run/netns/${id}`));
  t.deepEqual(stateLeft(r), { ...NOTHING, stateDirs: 1 });
  t.is(JSON.parse((await ok(t, r, ['inspect', 'made'])).stdout)[0].State.Status, 'created');
  // The name and the port are held.
  const dupName = await r.tscni(['create', '--name', 'made', 'busybox', 'true']);
  t.deepEqual([dupName.code, dupName.stderr], [4, 'tscni: the container name "made" is already in use: remove it first (tscni rm -f made)\n']);
  const dupPort = await r.tscni(['run', '-d', '-p', '127.0.0.1:18281:80', 'busybox', 'true']);
  t.deepEqual([dupPort.code, dupPort.stderr], [4, 'tscni: Bind for 127.0.0.1:18281 failed: port is already allocated (by container made)\n']);

  t.is((await ok(t, r, ['start', 'made'])).stdout, 'made\n');
  t.is(await curlUntil(r, 'http://127.0.0.1:18281/'), PAGE);
  t.deepEqual((await psAll(t, r)).map((c: any) => c.slice(0, 2)), [['made', 'running']]);
  t.is(stateLeft(r).veths, 1);
  await ok(t, r, ['stop', '-t', '0', 'made']);
  await ok(t, r, ['rm', 'made']);
  t.deepEqual(stateLeft(r), NOTHING);

  // A created container that never ran: rm (no -f) removes it at once.
  await ok(t, r, ['create', '--name', 'never', 'busybox', 'true']);
  t.is((await ok(t, r, ['rm', 'never'])).stdout, 'never\n');
  t.deepEqual(stateLeft(r), NOTHING);
});

test.serial('create keeps the network mode: none, host, container:X (X must run at start)', async (t) => {
  if (!requireRoot(t)) return;
  const r = setup(t, 'cm', '10.99.72.0/24');
  const noneId = (await ok(t, r, ['create', '--network', 'none', '--name', 'nn', 'busybox', 'sleep', '60'])).stdout.trim();
  await ok(t, r, ['create', '--network', 'host', '--name', 'hh', 'busybox', 'httpd', '-f', '-p', '127.0.0.1:18282', '-h', '/www']);
  await ok(t, r, ['create', '--network', 'tnet', '--name', 'web', '--hostname', 'webhost', ...HTTPD]);
  const webId = JSON.parse((await ok(t, r, ['inspect', 'web'])).stdout)[0].Id;
  // X exists but is only created: the joiner may be created, not started.
  await ok(t, r, ['create', '--network', 'container:web', '--name', 'side', 'busybox', 'sleep', '60']);
  t.deepEqual(await psAll(t, r), [['side', 'created', 'Created', `container:${webId}`], ['web', 'created', 'Created', 'tnet'], ['hh', 'created', 'Created', 'host'], ['nn', 'created', 'Created', 'none']]);
  const early = await r.tscni(['start', 'side']);
  t.deepEqual([early.code, early.stderr], [4, 'tscni: cannot join the network of container web: it is not running\n']);
  t.deepEqual((await psAll(t, r))[0], ['side', 'created', 'Created', `container:${webId}`]);

  await ok(t, r, ['start', 'nn', 'hh', 'web']);
  await ok(t, r, ['start', 'side']);
  const lo = JSON.parse(r.host.run(['ip', '-n', noneId, '-j', 'addr', 'show']));
  t.deepEqual(lo.map((l: any) => l.ifname), ['lo']);
  t.is(await curlUntil(r, 'http://127.0.0.1:18282/'), PAGE);
  t.is(await execUntil(r, 'side', ['wget', '-qO-', 'http://127.0.0.1:80/']), PAGE);
  t.is(await execUntil(r, 'side', ['cat', '/etc/hostname']), 'webhost\n');
  t.deepEqual((await psAll(t, r)).map((c: any) => [c[0], c[1], c[3]]), [['side', 'running', `container:${webId}`], ['web', 'running', 'tnet'], ['hh', 'running', 'host'], ['nn', 'running', 'none']]);
  await ok(t, r, ['rm', '-f', 'side', 'web', 'hh', 'nn']);
  t.false(existsSync(`/var/run/netns/${noneId}`));
  t.false(existsSync(`/var/run/netns/${webId}`));
  t.deepEqual(stateLeft(r), NOTHING);
});

test.serial('create: bad input is refused with the field and value, nothing left', async (t) => {
  if (!requireRoot(t)) return;
  const r = setup(t, 'cb', '10.99.73.0/24');
  const cases: [string[], number, string][] = [
    [['--network', 'bogus:x'], 2, 'invalid --network "bogus:x": expected a network name, host, none or container:NAME|ID'],
    [['--network', 'container:nope'], 3, 'cannot join the network of container nope: no such container'],
    [['--network', 'host', '-p', '80'], 2, 'conflicting options: port publishing and the host network mode (a host-network container listens on the host ports itself)'],
    [['-p', '[::1::]:8080:80'], 2, 'invalid host IP "::1::" in -p [::1::]:8080:80'],
    [['-d'], 2, 'create: --detach belongs to run (start the container with tscni start)'],
  ];
  for (const [flags, code, msg] of cases) {
    const o = await r.tscni(['create', ...flags, 'busybox', 'true']);
    t.deepEqual([o.code, o.stderr], [code, `tscni: ${msg}\n`], flags.join(' '));
  }
  const unknown = await r.tscni(['create', '--network', 'nosuch', 'busybox', 'true']);
  t.is(unknown.code, 3);
  t.regex(unknown.stderr, /^tscni: network nosuch not found in /);
  t.deepEqual(await psAll(t, r), []);
  t.deepEqual(stateLeft(r), NOTHING);
});
