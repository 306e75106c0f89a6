// Network modes: parsing docker's --network values, the flags each mode refuses, what a mode owns.

import test from 'ava';
import { chainIfName, checkModeFlags, joinersOf, noneConfList, ownsNetns, parseNetMode } from '../../../../../lib/runner/container/network/net-mode.ts';
import type { ContainerState } from '../../../../../lib/runner/container/store.ts';

test('parseNetMode: a network name, host, none, container:REF; anything else with a colon refused', (t) => {
  t.deepEqual(parseNetMode('tnet'), { kind: 'network', name: 'tnet' });
  t.deepEqual(parseNetMode('host'), { kind: 'host' });
  t.deepEqual(parseNetMode('none'), { kind: 'none' });
  t.deepEqual(parseNetMode('container:web'), { kind: 'container', ref: 'web' });
  t.throws(() => parseNetMode('container:'), { message: 'invalid --network container: a container name or id is required (container:NAME|ID)' });
  t.throws(() => parseNetMode('ns:/proc/1/ns/net'), { message: 'invalid --network "ns:/proc/1/ns/net": expected a network name, host, none or container:NAME|ID' });
});

test('checkModeFlags: what each mode refuses', (t) => {
  const f = { ports: 0, aliases: 0 };
  t.notThrows(() => checkModeFlags({ kind: 'network', name: 'n' }, { ...f, ports: 2, ip: '10.0.0.2', hostname: 'h', aliases: 1 }));
  t.throws(() => checkModeFlags({ kind: 'container', ref: 'w' }, { ...f, ports: 1 }), { message: 'conflicting options: port publishing and the container network mode (publish the ports on the joined container)' });
  t.throws(() => checkModeFlags({ kind: 'none' }, { ...f, mac: '02:00:00:00:00:01' }), { message: 'conflicting options: --ip/--mac and the none network mode' });
  t.throws(() => checkModeFlags({ kind: 'host' }, { ...f, aliases: 1 }), { message: 'conflicting options: --network-alias and the host network mode (aliases need a user network)' });
  t.notThrows(() => checkModeFlags({ kind: 'host' }, { ...f, hostname: 'h' }));
});

test('what a mode owns: its netns (network, none), the chain interface, joiners', (t) => {
  t.deepEqual(['tnet', 'none', 'host', 'container:abc'].map((network) => [ownsNetns({ network }), chainIfName({ network })]), [
    [true, 'eth0'], [true, 'lo'], [false, 'eth0'], [false, 'eth0'],
  ]);
  const l = noneConfList();
  t.deepEqual([l.name, l.cniVersion, l.plugins, JSON.parse(l.bytes.toString())], ['none', '1.1.0', [{ type: 'loopback' }], { cniVersion: '1.1.0', name: 'none', plugins: [{ type: 'loopback' }] }]);
  const c = (id: string, network: string, status: ContainerState['status']) => ({ id, network, status }) as ContainerState;
  const all = [c('a', 'tnet', 'running'), c('b', 'container:a', 'running'), c('c', 'container:a', 'exited'), c('d', 'container:x', 'running')];
  t.deepEqual(joinersOf(all, { id: 'a' }).map((j) => j.id), ['b']);
});
