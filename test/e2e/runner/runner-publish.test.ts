// Publishing like docker: -p 80 and -p 127.0.0.1::80 pick free host ports from 32768-60999, a host range for one
// port picks inside it (skipping a port a host process listens on), `tscni port`, -P from the image's ExposedPorts.

import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ociArchive, PAGE as OCI_PAGE } from '../../helpers/busybox-tar.ts';
import { requireRoot } from '../../helpers/netns.ts';
import { makeRunnerEnv, testNetwork, writeConf, type RunnerEnv, ok, curlUntil } from './harness.ts';

const PAGE = '<!doctype html>\n<title>tscni</title>\n<h1>Hello from busybox httpd in a tscni container</h1>\n';

const HTTPD = ['busybox', 'httpd', '-f', '-p', '80', '-h', '/www'];

test.serial('-p 80 and -p 127.0.0.1::80 pick 32768 and 32769; a host range skips held ports; tscni port; rm gives them back', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'pp');
  writeConf(r, '10-tnet.conflist', testNetwork(r, 'tnet', 'tscnitpp', '10.99.71.0/24'));
  await ok(t, r, ['run', '-d', '--network', 'tnet', '--name', 'web', '-p', '80', '-p', '127.0.0.1::80', ...HTTPD]);
  t.is((await ok(t, r, ['port', 'web'])).stdout, '80/tcp -> 0.0.0.0:32768\n80/tcp -> 127.0.0.1:32769\n');
  t.is((await ok(t, r, ['port', 'web', '80/tcp'])).stdout, '0.0.0.0:32768\n127.0.0.1:32769\n');
  const none = await r.tscni(['port', 'web', '81']);
  t.deepEqual([none.code, none.stderr], [3, "tscni: no public port '81/tcp' published for web\n"]);
  t.is(await curlUntil(r, 'http://127.0.0.1:32768/'), PAGE);
  t.is(await curlUntil(r, 'http://127.0.0.1:32769/'), PAGE);
  const info = JSON.parse((await ok(t, r, ['inspect', 'web'])).stdout)[0];
  t.deepEqual(info.NetworkSettings.Ports, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '32768' }, { HostIp: '127.0.0.1', HostPort: '32769' }] });

  // A host process on 32770: the range 32768-32771 has only 32771 left.
  const listener = spawn('ip', ['netns', 'exec', r.host.name, 'busybox', 'nc', '-l', '-p', '32770'], { stdio: 'ignore' });
  t.teardown(() => listener.kill('SIGKILL'));
  for (let i = 0; i < 40 && !r.host.run(['ss', '-Htln']).includes(':32770 '); i++) await new Promise((res) => setTimeout(res, 50));
  await ok(t, r, ['run', '-d', '--network', 'tnet', '--name', 'ranged', '-p', '32768-32771:80', ...HTTPD]);
  t.is((await ok(t, r, ['port', 'ranged'])).stdout, '80/tcp -> 0.0.0.0:32771\n');
  t.is(await curlUntil(r, 'http://127.0.0.1:32771/'), PAGE);
  // Nothing left in 32768-32770: refused before anything exists.
  const full = await r.tscni(['run', '-d', '--network', 'tnet', '--name', 'full', '-p', '32768-32770:80', ...HTTPD]);
  t.deepEqual([full.code, full.stderr], [4, 'tscni: no free host port in 32768-32770 for 0.0.0.0:?->80/tcp: every one is allocated or in use\n']);
  // A fixed port that a container holds: docker's message.
  const taken = await r.tscni(['run', '-d', '--network', 'tnet', '--name', 'taken', '-p', '32771:80', ...HTTPD]);
  t.deepEqual([taken.code, taken.stderr], [4, 'tscni: Bind for 0.0.0.0:32771 failed: port is already allocated (by container ranged)\n']);
  t.deepEqual(readdirSync(join(r.state, 'containers')).filter((n) => /^[0-9a-f]{64}$/.test(n)).length, 2);

  // Removed: the next pick gets 32768 again.
  await ok(t, r, ['rm', '-f', 'web', 'ranged']);
  t.false(r.host.run(['/usr/sbin/nft', 'list', 'ruleset']).includes('32768'));
  // --dry-run plans with the port a run would pick, and reserves nothing.
  const dry = await ok(t, r, ['run', '--dry-run', '--network', 'tnet', '--name', 'dry', '-p', '80', ...HTTPD]);
  t.true(dry.stdout.includes("tcp 0.0.0.0:32768 -> 10.99.71.2:80"), dry.stdout.slice(0, 400));
  await ok(t, r, ['run', '-d', '--network', 'tnet', '--name', 'again', '-p', '80/udp', ...HTTPD]);
  t.is((await ok(t, r, ['port', 'again'])).stdout, '80/udp -> 0.0.0.0:32768\n');
  await ok(t, r, ['rm', '-f', 'again']);
  t.false(existsSync(join(r.cache, 'results')) && readdirSync(join(r.cache, 'results')).length > 0);
});

test.serial('-P publishes every port the image EXPOSEs (tscni load keeps ExposedPorts)', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'pP');
  writeConf(r, '10-tnet.conflist', testNetwork(r, 'tnet', 'tscnitpP', '10.99.72.0/24'));
  const archive = ociArchive(r.dir, 'localhost/exposing:1', ['httpd', '-f', '-p', '80', '-h', '/www'], { ExposedPorts: { '80/tcp': {}, '53/udp': {} } });
  await ok(t, r, ['load', archive]);
  await ok(t, r, ['run', '-d', '--network', 'tnet', '--name', 'exp', '-P', 'localhost/exposing:1']);
  t.is((await ok(t, r, ['port', 'exp'])).stdout, '53/udp -> 0.0.0.0:32768\n80/tcp -> 0.0.0.0:32768\n');
  t.is(await curlUntil(r, 'http://127.0.0.1:32768/'), OCI_PAGE);
  t.deepEqual(JSON.parse((await ok(t, r, ['ps', '--json'])).stdout)[0].Ports, [
    { hostIP: '', hostPort: 32768, containerPort: 53, protocol: 'udp' },
    { hostIP: '', hostPort: 32768, containerPort: 80, protocol: 'tcp' },
  ]);
  await ok(t, r, ['rm', '-f', 'exp']);
});
