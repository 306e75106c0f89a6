// Capability args like libcni: built once from a container's flags, filtered per plugin into runtimeConfig
// (the first test moved from test/e2e/runner-pure.test.ts unchanged).

import test from 'ava';
import { buildPluginConfig, capabilityArgsFor, portMappingsArg, runtimeConfigFor } from '../../../lib/libcni/capability-args.ts';

test('runtimeConfig holds only declared, enabled capabilities', (t) => {
  const caps = { portMappings: [1], ips: ['10.0.0.2'], mac: 'm' };
  t.deepEqual(runtimeConfigFor({ type: 'x', capabilities: { portMappings: true, ips: false } }, caps), { portMappings: [1] });
  t.is(runtimeConfigFor({ type: 'x' }, caps), undefined);
  t.is(runtimeConfigFor({ type: 'x', capabilities: { bandwidth: true } }, caps), undefined);
});

test('capabilityArgsFor: portMappings, ips and mac only when given; nothing asked is undefined', (t) => {
  t.is(capabilityArgsFor({ ports: [] }), undefined);
  t.deepEqual(capabilityArgsFor({ ports: [], requestedIp: '10.42.0.9' }), { ips: ['10.42.0.9'] });
  t.deepEqual(capabilityArgsFor({
    ports: [{ hostIP: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }, { hostIP: '127.0.0.1', hostPort: 53, containerPort: 5353, protocol: 'udp' }],
    requestedIp: '10.42.0.9',
    requestedMac: '02:42:ac:11:00:02',
  }), {
    portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }, { hostPort: 53, containerPort: 5353, protocol: 'udp', hostIP: '127.0.0.1' }],
    ips: ['10.42.0.9'],
    mac: '02:42:ac:11:00:02',
  });
  t.deepEqual(portMappingsArg([]), []);
});

test('buildPluginConfig: name and cniVersion injected, prevResult, runtimeConfig merged over the plugin\'s own, extra last', (t) => {
  const plugin = { type: 'portmap', name: 'ignored', cniVersion: '0.3.1', capabilities: { portMappings: true }, runtimeConfig: { keep: 1 } };
  t.deepEqual(buildPluginConfig(plugin, 'net', '1.0.0', { prevResult: { ips: [] }, capArgs: { portMappings: [{ hostPort: 1 }], mac: 'x' }, extra: { 'cni.dev/valid-attachments': [] } }), {
    type: 'portmap',
    name: 'net',
    cniVersion: '1.0.0',
    capabilities: { portMappings: true },
    runtimeConfig: { keep: 1, portMappings: [{ hostPort: 1 }] },
    prevResult: { ips: [] },
    'cni.dev/valid-attachments': [],
  });
  t.deepEqual(buildPluginConfig({ type: 'loopback' }, 'net', '0.4.0', { capArgs: { mac: 'x' } }), { type: 'loopback', name: 'net', cniVersion: '0.4.0' });
});
