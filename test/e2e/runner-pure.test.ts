// The runner's pure pieces with exact values: -p parsing and conflicts, resolv.conf/hosts, subnet overlap,
// argv parsing, cnitool's container id, libcni's cache serialization, capability filtering.

import test from 'ava';
import { parsePublish, checkPortsFree } from '../../lib/runner/container/ports.ts';
import { resolvConf, hostsFile } from '../../lib/runner/container/etc-files.ts';
import { subnetsOverlap } from '../../lib/runner/networks.ts';
import { parseArgs } from '../../lib/runner/cli/argv.ts';
import { cnitoolContainerId } from '../../lib/libcni/cnitool.ts';
import { serializeAttachment } from '../../lib/libcni/result-cache.ts';
import { runtimeConfigFor } from '../../lib/libcni/capability-args.ts';
import { parseMemory } from '../../lib/runner/cli/flags.ts';
import { networkSettingsFrom } from '../../lib/runner/container/lifecycle.ts';

test('-p specs', (t) => {
  t.deepEqual(parsePublish('8080:80'), [{ hostIP: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
  t.deepEqual(parsePublish('127.0.0.1:53:5353/udp'), [{ hostIP: '127.0.0.1', hostPort: 53, containerPort: 5353, protocol: 'udp' }]);
  t.deepEqual(parsePublish('[::1]:9000-9001:90-91/sctp'), [
    { hostIP: '::1', hostPort: 9000, containerPort: 90, protocol: 'sctp' },
    { hostIP: '::1', hostPort: 9001, containerPort: 91, protocol: 'sctp' },
  ]);
  t.throws(() => parsePublish('70000:80'), { message: 'invalid host port 70000 in -p 70000:80: must be 1-65535' });
  t.throws(() => parsePublish('80:80/icmp'), { message: 'invalid protocol "icmp" in -p 80:80/icmp: must be tcp, udp or sctp' });
  t.throws(() => parsePublish('1-3:1-2'), { message: 'invalid -p 1-3:1-2: host and container port ranges differ in size' });
  t.throws(() => parsePublish('x.y:1:2'), { message: 'invalid host IP "x.y" in -p x.y:1:2' });
  t.throws(() => parsePublish('80'), { message: 'invalid -p 80: expected [hostIP:]hostPort:containerPort[/protocol]' });
});

test('port conflicts: same protocol and port, any address overlapping', (t) => {
  const used = [{ owner: 'a', ports: parsePublish('127.0.0.1:8080:80') }];
  t.throws(() => checkPortsFree(parsePublish('8080:80'), used), { message: 'Bind for 0.0.0.0:8080 failed: port is already allocated (by container a)' });
  t.notThrows(() => checkPortsFree(parsePublish('127.0.0.2:8080:80'), used));
  t.notThrows(() => checkPortsFree(parsePublish('8080:80/udp'), used));
  t.throws(() => checkPortsFree([...parsePublish('81:80'), ...parsePublish('81:82')], []), { message: 'port is already allocated: 81/tcp is published twice' });
});

test('resolv.conf drops loopback resolvers and falls back to public ones', (t) => {
  t.is(resolvConf('# generated\nnameserver 127.0.0.53\noptions edns0\nsearch example.org\n'), 'options edns0\nsearch example.org\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  t.is(resolvConf('nameserver 10.0.0.2\nnameserver ::1\n'), 'nameserver 10.0.0.2\n');
  t.is(hostsFile('h1', 'web', '10.42.0.2').split('\n').at(-2), '10.42.0.2\th1 web');
  t.is(hostsFile('web', 'web', '10.42.0.2').split('\n').at(-2), '10.42.0.2\tweb');
});

test('subnet overlap', (t) => {
  t.true(subnetsOverlap('10.42.0.0/24', '10.42.0.128/25'));
  t.true(subnetsOverlap('10.0.0.0/8', '10.42.0.0/24'));
  t.false(subnetsOverlap('10.42.0.0/24', '10.42.1.0/24'));
  t.false(subnetsOverlap('10.42.0.0/24', 'fd00::/64'));
  t.true(subnetsOverlap('fd00::/64', 'fd00::1:0/112'));
});

test('argv: clustered booleans, values, repeats, stop at the command line', (t) => {
  const p = parseArgs(['-dit', '-p8080:80', '--publish', '1:2', '--name=web', '-e', 'A=1', 'img', 'sh', '-c', 'x'], { bools: ['detach', 'interactive', 'tty'], values: ['name'], multi: ['publish', 'env'], aliases: { d: 'detach', i: 'interactive', t: 'tty', p: 'publish', e: 'env' }, stopAtPositional: true }, 'run');
  t.deepEqual(p, { flags: { publish: ['8080:80', '1:2'], env: ['A=1'], detach: true, interactive: true, tty: true, name: 'web' }, positionals: ['img', 'sh', '-c', 'x'] });
  t.throws(() => parseArgs(['--bogus'], {}, 'ps'), { message: 'ps: unknown flag --bogus (see tscni ps --help)' });
  t.throws(() => parseArgs(['--name'], { values: ['name'] }, 'run'), { message: 'run: flag --name needs a value' });
});

test("cnitool's container id", (t) => {
  // sha512("/var/run/netns/testing") starts with 77383ca0a0715733ca6f (the id cnitool prints for that path).
  t.is(cnitoolContainerId('/var/run/netns/testing'), 'cnitool-77383ca0a0715733ca6f');
});

test("libcni's cache bytes: field order, base64 config, sorted maps, omitted empties, Go's HTML escapes", (t) => {
  const s = serializeAttachment({ containerId: 'c1', config: Buffer.from('{"a":1}'), ifName: 'eth0', networkName: 'n', netns: '/x', cniArgs: [], capabilityArgs: { b: 1, a: { d: '<&>', c: 2 } }, result: {} });
  t.is(s, '{"kind":"cniCacheV1","containerId":"c1","config":"eyJhIjoxfQ==","ifName":"eth0","networkName":"n","netns":"/x","capabilityArgs":{"a":{"c":2,"d":"\\u003c\\u0026\\u003e"},"b":1}}');
});

test('runtimeConfig holds only declared, enabled capabilities', (t) => {
  const caps = { portMappings: [1], ips: ['10.0.0.2'], mac: 'm' };
  t.deepEqual(runtimeConfigFor({ type: 'x', capabilities: { portMappings: true, ips: false } }, caps), { portMappings: [1] });
  t.is(runtimeConfigFor({ type: 'x' }, caps), undefined);
  t.is(runtimeConfigFor({ type: 'x', capabilities: { bandwidth: true } }, caps), undefined);
});

test('memory sizes', (t) => {
  t.is(parseMemory('64m'), 64 * 1024 * 1024);
  t.is(parseMemory('1g'), 1024 ** 3);
  t.is(parseMemory('10485760'), 10485760);
  t.throws(() => parseMemory('1k'), { message: 'invalid --memory 1k: the minimum is 6m' });
});

test('NetworkSettings from a bridge result', (t) => {
  const result = { interfaces: [{ name: 'br0', mac: 'aa' }, { name: 'veth1', mac: 'bb' }, { name: 'eth0', mac: 'cc', sandbox: '/n' }], ips: [{ address: 'fd00::2/64', interface: 2 }, { address: '10.42.0.7/24', gateway: '10.42.0.1', interface: 2 }] };
  t.deepEqual(networkSettingsFrom(result, '/n'), { IPAddress: '10.42.0.7', IPPrefixLen: 24, Gateway: '10.42.0.1', MacAddress: 'cc' });
});
