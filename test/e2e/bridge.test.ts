// bridge as a built executable: the dry-run plan (TSCNI_DRY_RUN=1) is exact, applicable by nft, and changes nothing;
// VERSION and the about line.

import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { callPlugin } from '../helpers/plugin.ts';
import { ipJson, makeNetns, requireRoot } from '../helpers/netns.ts';
import { attachmentBatch, parseCidr } from '../../plugins/bridge/masq-rules.ts';

const conf = { cniVersion: '1.1.0', name: 'plannet', type: 'bridge', bridge: 'pbr0', isGateway: true, ipMasq: true, ipam: { type: 'host-local', subnet: '10.5.0.0/24', dataDir: '/nonexistent/tscni-plan' } };

test.serial('dry-run ADD prints the addresses host-local would lease, the exact nft transaction and kernel steps, applies nothing; nft accepts the JSON', async (t) => {
  if (!requireRoot(t)) return;
  const host = makeNetns(t, 'h');
  const ctr = makeNetns(t, 'c');
  const r = await callPlugin('bridge', { command: 'ADD', containerId: 'c1', netns: ctr.path, ifname: 'eth0', args: 'IgnoreUnknown=1;IP=10.5.0.9', extra: { TSCNI_DRY_RUN: '1' } }, conf, { hostNetns: host.name });
  t.is(r.code, 0, r.stdout + r.stderr);
  t.is(r.json.tscniDryRun, true);
  t.is(r.json.plan.owner, 'tscni plannet c1/eth0');
  const batch = attachmentBatch({ ipMasq: true, macspoofchk: false, addrs: [parseCidr('10.5.0.9/24')], hostVeth: 'veth<8 random hex>', mac: '<container MAC>', tag: 'tscni plannet c1/eth0' });
  t.deepEqual(r.json.plan.nft, { nftables: [{ metainfo: { json_schema_version: 1 } }, ...batch] });
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
