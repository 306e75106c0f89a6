// portmap against Debian's reference portmap 1.1.1 (iptables): the same ADD results and working traffic at every
// version both speak, and the error codes of both, with the known differences spelled out.

import test from 'ava';
import { existsSync } from 'node:fs';
import { callPlugin, REF_BIN } from '../../helpers/plugin.ts';
import { requireRoot } from '../../helpers/netns.ts';
import { answer, HOST4, makeBridgeHost, serve, tcp, type Container } from '../../helpers/veth-container.ts';

const REF = `${REF_BIN}/portmap`;
const mapping = { hostPort: 8080, containerPort: 80, protocol: 'tcp' };

// The prevResult as a runtime hands it over at `v` (0.3.x/0.4.0 carry ips[].version; 0.1/0.2 use ip4/ip6).
function prevAt(c: Container, v: string): Record<string, unknown> {
  if (v === '0.1.0' || v === '0.2.0') return { cniVersion: v, ip4: { ip: `${c.v4}/24`, gateway: '10.88.0.1' } };
  const pre = v.startsWith('0.');
  return {
    cniVersion: v,
    interfaces: [{ name: 'br0' }, { name: 'eth0', sandbox: c.ns.path }],
    ips: [{ ...(pre ? { version: '4' } : {}), address: `${c.v4}/24`, gateway: '10.88.0.1', interface: 1 }],
  };
}

const withoutEmptyDns = (r: any) => {
  if (r && r.dns && Object.keys(r.dns).length === 0) {
    const { dns, ...rest } = r;
    return rest;
  }
  return r;
};

test.serial('same ADD result and the same published port working, at every version both support', async (t) => {
  if (!requireRoot(t)) return;
  t.true(existsSync(REF), 'the reference plugins are installed by .ci/setup (containernetworking-plugins)');
  for (const v of ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0']) {
    const results: unknown[] = [];
    for (const bin of ['portmap', REF]) {
      const fx = makeBridgeHost(t);
      const c = fx.addContainer(11, { v6: false });
      await serve(t, c.ns, 80, 'c');
      const conf = { cniVersion: v, name: 'diff', type: 'portmap', runtimeConfig: { portMappings: [mapping] }, prevResult: prevAt(c, v) };
      const env = { containerId: 'ctr-1', netns: c.ns.path, ifname: 'eth0' };
      const r = await callPlugin(bin, { command: 'ADD', ...env }, conf, { hostNetns: fx.host.name });
      t.is(r.code, 0, `${bin} ${v}: ${r.stdout}`);
      results.push(JSON.parse(JSON.stringify(withoutEmptyDns(r.json)).replaceAll(c.ns.path, 'SANDBOX')));
      t.is(tcp(fx.outside, HOST4, 8080), answer('c', c.v4), `${bin} ${v}: outside host reaches the container`);
      t.is(tcp(fx.host, HOST4, 8080), answer('c', c.v4), `${bin} ${v}: the host through its own address`);
      const del = await callPlugin(bin, { command: 'DEL', ...env }, conf, { hostNetns: fx.host.name });
      t.is(del.code, 0, `${bin} ${v} DEL: ${del.stdout}`);
      t.is(tcp(fx.outside, HOST4, 8080), '', `${bin} ${v}: DEL unpublished the port`);
    }
    t.deepEqual(results[0], results[1], v);
  }
});

test.serial('error codes: ours against the reference, known differences listed', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeBridgeHost(t);
  const c = fx.addContainer(11, { v6: false });
  const conf = (mappings: unknown[], extra: Record<string, unknown> = {}) =>
    ({ cniVersion: '1.0.0', name: 'diff', type: 'portmap', runtimeConfig: { portMappings: mappings }, prevResult: prevAt(c, '1.0.0'), ...extra });
  const m = (x: Record<string, unknown>) => [{ ...mapping, ...x }];
  // [what, stdin, our code, the reference's code]. The reference answers 999 for everything it refuses; it also
  // accepts ports above 65535 and hostIPs that are not addresses, failing later inside iptables (still 999), and it
  // has no port ledger, no spec 1.1.0 (code 1), no nftables-only stance.
  const cases: [string, unknown, number, number][] = [
    ['hostPort 0', conf(m({ hostPort: 0 })), 7, 999],
    ['hostPort -1', conf(m({ hostPort: -1 })), 7, 999],
    ['hostPort 65536 (the reference does not check the upper bound)', conf(m({ hostPort: 65536 })), 7, 999],
    ['hostPort "80"', conf(m({ hostPort: '80' })), 7, 999],
    ['protocol icmp', conf(m({ protocol: 'icmp' })), 7, 999],
    ['hostIP not an address (the reference silently publishes nothing)', conf(m({ hostIP: 'localhost' })), 7, 0],
    ['containerPort missing', conf([{ hostPort: 8080, protocol: 'tcp' }]), 7, 999],
    ['no prevResult', { ...conf(m({})), prevResult: undefined }, 7, 999],
    ['markMasqBit 40', conf(m({}), { markMasqBit: 40 }), 2, 999],
    ['spec 1.1.0', { ...conf(m({})), cniVersion: '1.1.0', prevResult: prevAt(c, '1.1.0') }, 0, 1],
    ['bad JSON', '{"cniVersion":', 6, 6],
  ];
  for (const [what, stdin, ours, ref] of cases) {
    const env = { command: 'ADD', containerId: 'ctr-e', netns: c.ns.path, ifname: 'eth0' };
    const a = await callPlugin('portmap', env, stdin, { hostNetns: fx.host.name });
    const b = await callPlugin(REF, env, stdin, { hostNetns: fx.host.name });
    t.is(a.code === 0 ? 0 : a.json?.code, ours, `ours, ${what}: ${a.stdout}`);
    t.is(b.code === 0 ? 0 : b.json?.code, ref, `reference, ${what}: ${b.stdout}`);
    if (a.code === 0) await callPlugin('portmap', { ...env, command: 'DEL' }, stdin, { hostNetns: fx.host.name });
    if (b.code === 0) await callPlugin(REF, { ...env, command: 'DEL' }, stdin, { hostNetns: fx.host.name });
  }
  // After refused ADDs and one ADD+DEL, the reference keeps its shared chains (never deleted by design) and ours keeps
  // its table skeleton; neither holds anything of the container.
  t.regex(fx.host.run(['iptables', '-t', 'nat', '-S']), /-N CNI-HOSTPORT-DNAT/);
  t.notRegex(fx.host.run(['iptables', '-t', 'nat', '-S']), /-N CNI-DN-/);
  t.notRegex(fx.host.run(['/usr/sbin/nft', 'list', 'table', 'inet', 'tscni_portmap']), /comment/);
});

test.serial('the reference needs runtimeConfig again on DEL; ours removes by owner without it', async (t) => {
  if (!requireRoot(t)) return;
  for (const bin of ['portmap', REF]) {
    const fx = makeBridgeHost(t);
    const c = fx.addContainer(11, { v6: false });
    await serve(t, c.ns, 80, 'c');
    const conf = { cniVersion: '1.0.0', name: 'diff', type: 'portmap', runtimeConfig: { portMappings: [mapping] }, prevResult: prevAt(c, '1.0.0') };
    const env = { containerId: 'ctr-1', netns: c.ns.path, ifname: 'eth0' };
    t.is((await callPlugin(bin, { command: 'ADD', ...env }, conf, { hostNetns: fx.host.name })).code, 0);
    const { runtimeConfig, prevResult, ...bare } = conf;
    t.is((await callPlugin(bin, { command: 'DEL', ...env }, bare, { hostNetns: fx.host.name })).code, 0);
    t.is(tcp(fx.outside, HOST4, 8080), bin === REF ? answer('c', c.v4) : '', `${bin}: after DEL without runtimeConfig the port is ${bin === REF ? 'still' : 'no longer'} published`);
  }
});
