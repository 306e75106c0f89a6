// bridge as a built executable: the dry-run plan (TSCNI_DRY_RUN=1) is exact, applicable by nft, and changes nothing;
// VERSION and the about line.

import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { callPlugin } from '../../helpers/plugin.ts';
import { ipJson, makeNetns, requireRoot } from '../../helpers/netns.ts';

const conf = { cniVersion: '1.1.0', name: 'plannet', type: 'bridge', bridge: 'pbr0', isGateway: true, ipMasq: true, ipam: { type: 'host-local', subnet: '10.5.0.0/24', dataDir: '/nonexistent/tscni-plan' } };

test.serial('dry-run ADD prints the addresses host-local would lease, the exact nft transaction and kernel steps, applies nothing; nft accepts the JSON', async (t) => {
  if (!requireRoot(t)) return;
  const host = makeNetns(t, 'h');
  const ctr = makeNetns(t, 'c');
  const r = await callPlugin('bridge', { command: 'ADD', containerId: 'c1', netns: ctr.path, ifname: 'eth0', args: 'IgnoreUnknown=1;IP=10.5.0.9', extra: { TSCNI_DRY_RUN: '1' } }, conf, { hostNetns: host.name });
  t.is(r.code, 0, r.stdout + r.stderr);
  t.is(r.json.tscniDryRun, true);
  t.is(r.json.plan.owner, 'tscni plannet c1/eth0');
  // The exact transaction, written out: the masquerade table, its sets and constant chain, then this container's elements.
  const T = { family: 'inet', table: 'tscni_bridge' };
  const owner = 'tscni plannet c1/eth0';
  const ip = (field: string) => ({ payload: { protocol: 'ip', field } });
  const ip6 = (field: string) => ({ payload: { protocol: 'ip6', field } });
  const rule = (expr: unknown[]) => ({ add: { rule: { ...T, chain: 'postrouting', expr } } });
  const masqComment = 'container addresses to masquerade (owner in each comment)';
  const localComment = 'container address . its own subnet: not masqueraded';
  const clusterComment = 'destinations never masqueraded: pod CIDRs of every node (filled by tscni agent)';
  t.deepEqual(r.json.plan.nft, {
    nftables: [
      { metainfo: { json_schema_version: 1 } },
      { add: { table: { family: 'inet', name: 'tscni_bridge' } } },
      { add: { set: { ...T, name: 'masq4', type: 'ipv4_addr', comment: masqComment } } },
      { add: { set: { ...T, name: 'masq6', type: 'ipv6_addr', comment: masqComment } } },
      { add: { set: { ...T, name: 'local4', type: ['ipv4_addr', 'ipv4_addr'], flags: ['interval'], comment: localComment } } },
      { add: { set: { ...T, name: 'local6', type: ['ipv6_addr', 'ipv6_addr'], flags: ['interval'], comment: localComment } } },
      { add: { set: { ...T, name: 'nomasq4', type: 'ipv4_addr', flags: ['interval'], comment: clusterComment } } },
      { add: { set: { ...T, name: 'nomasq6', type: 'ipv6_addr', flags: ['interval'], comment: clusterComment } } },
      { add: { chain: { ...T, name: 'postrouting', type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' } } },
      { flush: { chain: { ...T, name: 'postrouting' } } },
      rule([{ match: { op: '==', left: ip('daddr'), right: { prefix: { addr: '224.0.0.0', len: 4 } } } }, { return: null }]),
      rule([{ match: { op: '==', left: ip6('daddr'), right: { prefix: { addr: 'ff00::', len: 8 } } } }, { return: null }]),
      rule([{ match: { op: '==', left: { concat: [ip('saddr'), ip('daddr')] }, right: '@local4' } }, { return: null }]),
      rule([{ match: { op: '==', left: { concat: [ip6('saddr'), ip6('daddr')] }, right: '@local6' } }, { return: null }]),
      rule([{ match: { op: '==', left: ip('daddr'), right: '@nomasq4' } }, { return: null }]),
      rule([{ match: { op: '==', left: ip6('daddr'), right: '@nomasq6' } }, { return: null }]),
      rule([{ match: { op: '==', left: ip('saddr'), right: '@masq4' } }, { masquerade: null }]),
      rule([{ match: { op: '==', left: ip6('saddr'), right: '@masq6' } }, { masquerade: null }]),
      { add: { element: { ...T, name: 'masq4', elem: [{ elem: { val: '10.5.0.9', comment: owner } }] } } },
      { add: { element: { ...T, name: 'local4', elem: [{ elem: { val: { concat: ['10.5.0.9', { prefix: { addr: '10.5.0.0', len: 24 } }] }, comment: owner } }] } } },
    ],
  });
  t.deepEqual(r.json.plan.nft.nftables.at(-2), {
    add: { element: { family: 'inet', table: 'tscni_bridge', name: 'masq4', elem: [{ elem: { val: '10.5.0.9', comment: 'tscni plannet c1/eth0' } }] } },
  });
  t.deepEqual(r.json.plan.steps.map((s: any) => s.step), [
    'ensure bridge', 'create veth pair', 'attach port', 'IPAM ADD', 'configure container interface', 'add gateway address', 'wait for operstate up',
  ]);
  t.deepEqual(r.json.plan.steps[3], { step: 'IPAM ADD', plugin: 'host-local', addresses: ['10.5.0.9/24'] });
  t.deepEqual(r.json.plan.steps[5].addresses, ['10.5.0.1/24']);
  t.deepEqual(r.json.plan.sysctls.host.map((s: any) => `${s.key}=${s.value}`), ['net/ipv6/conf/pbr0/accept_ra=0', 'net/ipv4/ip_forward=1']);
  t.deepEqual(ipJson<any[]>(host, ['link', 'show']).map((l) => l.ifname), ['lo'], 'nothing created in the host netns');
  t.deepEqual(ipJson<any[]>(ctr, ['link', 'show']).map((l) => l.ifname), ['lo'], 'nothing created in the container');
  const file = join(mkdtempSync(join(tmpdir(), 'tscni-plan-')), 'plan.json');
  t.teardown(() => rmSync(dirname(file), { recursive: true, force: true }));
  writeFileSync(file, JSON.stringify(r.json.plan.nft)); // nft -j cannot read a socket stdin
  const chk = host.try(['/usr/sbin/nft', '-c', '-j', '-f', file]);
  t.is(chk.status, 0, `nft -c accepts the planned transaction: ${chk.stderr}`);
  t.is(host.run(['/usr/sbin/nft', 'list', 'tables']).trim(), '', 'check mode applied nothing');
});

test.serial('dry-run DEL lists the steps by owner; VERSION; about', async (t) => {
  const r = await callPlugin('bridge', { command: 'DEL', containerId: 'c1', netns: '', ifname: 'eth0', extra: { TSCNI_DRY_RUN: '1' } }, conf);
  t.is(r.code, 0, r.stdout);
  t.deepEqual(r.json.plan.steps.map((s: any) => s.step), ['delete link', 'IPAM DEL', 'nft delete elements']);
  t.is(r.json.plan.steps[2].where, 'comment == "tscni plannet c1/eth0"');
  const v = await callPlugin('bridge', { command: 'VERSION' }, { cniVersion: '1.0.0' });
  t.deepEqual(v.json, { cniVersion: '1.0.0', supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  const about = await callPlugin('bridge', { command: '' }, '');
  t.is(about.code, 0);
  t.regex(about.stderr, /^tscni bridge plugin/);
});
