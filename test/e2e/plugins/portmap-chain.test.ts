// The real chain, as a runtime drives it: tscni bridge (+ host-local, exec'd by bridge) then portmap, with the
// previous result threaded; traffic from another host, the host (own address and 127.0.0.1) and the container itself.

import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callPlugin } from '../../helpers/plugin.ts';
import { makeNetns, requireRoot } from '../../helpers/netns.ts';
import { answer, HOST4, makeBridgeHost, serve, tcp, udp } from '../../helpers/veth-container.ts';

test.serial('bridge + host-local + portmap: ADD, traffic on every path, CHECK, DEL in reverse leaves no mapping', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeBridgeHost(t);
  const c = makeNetns(t, 'pmchain');
  const dataDir = mkdtempSync(join(tmpdir(), 'tscni-pm-chain-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const bridgeConf = {
    cniVersion: '1.1.0', name: 'chainnet', type: 'bridge', bridge: 'cnipm0', isDefaultGateway: true, hairpinMode: true,
    ipam: { type: 'host-local', subnet: '10.89.0.0/24', dataDir },
  };
  const portmapConf = (prevResult: unknown) => ({
    cniVersion: '1.1.0', name: 'chainnet', type: 'portmap', capabilities: { portMappings: true },
    runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }, { hostPort: 5353, containerPort: 80, protocol: 'udp' }] },
    prevResult,
  });
  const env = { containerId: 'chain-ctr', netns: c.path, ifname: 'eth0' };
  const opts = { hostNetns: fx.host.name };
  const br = await callPlugin('bridge', { command: 'ADD', ...env }, bridgeConf, opts);
  t.is(br.code, 0, br.stdout + br.stderr);
  const pm = await callPlugin('portmap', { command: 'ADD', ...env }, portmapConf(br.json), opts);
  t.is(pm.code, 0, pm.stdout + pm.stderr);
  t.deepEqual(pm.json, br.json, 'portmap passes the bridge result on unchanged');
  const addr = (br.json.ips[0].address as string).split('/')[0];
  t.regex(addr, /^10\.89\.0\.\d+$/);
  await serve(t, c, 80, 'ctr');
  t.is(tcp(fx.outside, HOST4, 8080), answer('ctr', addr), 'another host');
  t.is(udp(fx.outside, HOST4, 5353), answer('ctr', addr), 'another host, UDP');
  t.is(tcp(fx.host, HOST4, 8080), answer('ctr', addr), 'the host through its own address');
  t.is(tcp(fx.host, '127.0.0.1', 8080), answer('ctr', addr), 'the host through 127.0.0.1');
  t.is(tcp(c, HOST4, 8080), answer('ctr', addr), 'hairpin through the bridge plugin\'s hairpinMode');
  t.is(fx.host.run(['cat', '/proc/sys/net/ipv4/conf/cnipm0/route_localnet']).trim(), '1');
  const chk = await callPlugin('portmap', { command: 'CHECK', ...env }, portmapConf(br.json), opts);
  t.is(chk.code, 0, chk.stdout);
  for (const [type, conf] of [['portmap', portmapConf(br.json)], ['bridge', { ...bridgeConf, prevResult: br.json }]] as const) {
    const del = await callPlugin(type, { command: 'DEL', ...env }, conf, opts);
    t.is(del.code, 0, `${type} DEL: ${del.stdout}`);
  }
  t.notRegex(fx.host.run(['/usr/sbin/nft', 'list', 'table', 'inet', 'tscni_portmap']), /comment/);
  t.is(tcp(fx.outside, HOST4, 8080), '');
});
