// Issue 16 against the real kernel, through the built executables in a private host netns, every spec version:
// interface names the kernel steps cannot carry, subnets that cannot serve a container, and a CNI_NETNS that is the
// plugin's own namespace. Each answers with its code and exact message, and nothing is left behind.

import test, { type ExecutionContext } from 'ava';
import { statSync } from 'node:fs';
import { ALL_VERSIONS, callPlugin } from '../helpers/plugin.ts';
import { ipJson, makeNetns, requireRoot, type TestNetns } from '../helpers/netns.ts';
import { atLeast } from '../../lib/cni/version.ts';
import { leases, makeFixture, NFT, type Fixture } from './bridge/fixture.ts';

const CHARS = 'an interface name is 1-15 characters of A-Z a-z 0-9 _ . -';
const links = (ns: TestNetns) => ipJson<any[]>(ns, ['link', 'show']).map((l) => `${l.ifname}:${l.flags.includes('UP') ? 'up' : 'down'}`).sort();

/** Everything an attachment could leave: host links, container links, leases, nft tables. */
function snapshot(fx: Fixture, ctr: TestNetns) {
  return { host: links(fx.host), ctr: links(ctr), leases: leases(fx.dataDir), nft: fx.host.run([NFT, 'list', 'tables']).trim() };
}

function nothingLeft(t: ExecutionContext, fx: Fixture, ctr: TestNetns, before: ReturnType<typeof snapshot>, what: string) {
  t.deepEqual(snapshot(fx, ctr), before, `${what}: nothing created or changed`);
}

test.serial('bridge and CNI_IFNAME names the kernel steps cannot carry: code 7 / 4 before any link exists, every version', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeFixture(t);
  const ctr = makeNetns(t, 'c');
  const before = snapshot(fx, ctr);
  for (const v of ALL_VERSIONS) {
    const rows: [string, Record<string, unknown>, string, number, string][] = [
      ['bridge advé', { bridge: 'advé' }, 'eth0', 7, `invalid bridge "advé": contains U+00E9; ${CHARS}`],
      ['bridge br%d', { bridge: 'br%d' }, 'eth0', 7, `invalid bridge "br%d": contains "%"; ${CHARS}`],
      ['bridge of 16', { bridge: 'b'.repeat(16) }, 'eth0', 7, 'invalid bridge "bbbbbbbbbbbbbbbb": is 16 characters long; a Linux interface name has at most 15'],
      ['CNI_IFNAME eté0', {}, 'eté0', 4, `invalid CNI_IFNAME "eté0": contains U+00E9; ${CHARS}`],
      ['mtu 0', { mtu: 0 }, 'eth0', 7, 'invalid mtu 0: must be an integer 68-65535'],
    ];
    for (const [what, extra, ifname, code, msg] of rows) {
      const r = await fx.call('ADD', ctr, ifname, fx.conf(v, extra));
      // An env error is found before stdin is read, so it speaks the latest version (as every env error does).
      t.deepEqual([r.code, r.json], [1, { cniVersion: code === 4 ? '1.1.0' : v, code, msg }], `${v} ${what}: ${r.stderr}`);
      nothingLeft(t, fx, ctr, before, `${v} ${what}`);
    }
  }
});

test.serial('bridge + host-local with a subnet that cannot serve a container: code 7 from IPAM, the veth undone, every version', async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeFixture(t);
  const ctr = makeNetns(t, 'c');
  const before = snapshot(fx, ctr);
  const rows: [Record<string, unknown>, string][] = [
    [{ subnet: '0.0.0.0/0' }, 'invalid ipam.subnet "0.0.0.0/0": covers 0.0.0.0/8 ("this network"); a container subnet must be routable unicast'],
    [{ subnet: '10.77.0.0/24', gateway: '10.77.0.255' }, 'invalid ipam.gateway "10.77.0.255": is the broadcast address of 10.77.0.0/24'],
    [{ subnet: '10.77.0.0/24', gateway: '10.77.0.0' }, 'invalid ipam.gateway "10.77.0.0": is the network address of 10.77.0.0/24'],
  ];
  for (const v of ALL_VERSIONS) {
    for (const [ipam, msg] of rows) {
      const conf = fx.conf(v, { ipam: { type: 'host-local', dataDir: fx.dataDir, ...ipam } });
      const r = await fx.call('ADD', ctr, 'eth0', conf);
      t.deepEqual([r.code, r.json], [1, { cniVersion: v, code: 7, msg }], `${v} ${JSON.stringify(ipam)}`);
      // The bridge itself may stay (it is shared and never deleted, as the reference); nothing else may.
      const after = snapshot(fx, ctr);
      t.deepEqual({ ...after, host: after.host.filter((l) => !l.startsWith('tbr0:')) }, before, `${v} ${JSON.stringify(ipam)}`);
    }
  }
});

test.serial("CNI_NETNS that is the plugin's own netns: code 4 for ADD, CHECK and DEL of bridge, loopback and portmap; the host is untouched", async (t) => {
  if (!requireRoot(t)) return;
  const fx = makeFixture(t);
  const ctr = makeNetns(t, 'c');
  // A host interface named like the container's: DEL in the wrong namespace would delete it.
  fx.host.run(['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p']);
  fx.host.run(['ip', 'link', 'set', 'eth0', 'up']);
  const ino = statSync(fx.host.path).ino;
  const before = snapshot(fx, ctr);
  const confs: Record<string, (v: string) => Record<string, unknown>> = {
    bridge: (v) => fx.conf(v),
    loopback: (v) => ({ cniVersion: v, name: 'tnet', type: 'loopback' }),
    portmap: (v) => ({ cniVersion: v, name: 'tnet', type: 'portmap', runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80 }] } }),
  };
  for (const v of ALL_VERSIONS) {
    for (const [bin, conf] of Object.entries(confs)) {
      for (const command of ['ADD', 'CHECK', 'DEL']) {
        if (command === 'CHECK' && !atLeast(v, '0.4.0')) continue;
        for (const netns of [fx.host.path, '/proc/self/ns/net']) {
          const r = await callPlugin(bin, { command, containerId: 'c1', netns, ifname: 'eth0' }, conf(v), { hostNetns: fx.host.name });
          t.deepEqual(
            [r.code, r.json],
            [1, { cniVersion: v, code: 4, msg: `invalid CNI_NETNS ${JSON.stringify(netns)}: is the plugin's own network namespace (net:[${ino}]), not a container's` }],
            `${v} ${bin} ${command} ${netns}: ${r.stderr}`,
          );
        }
      }
    }
    nothingLeft(t, fx, ctr, before, v);
  }
  t.true(links(fx.host).includes('lo:up'), 'lo of the host netns still up (loopback DEL did not run there)');
  // A real container namespace still works afterwards, and CNI_NETNS_OVERRIDE (libcni's escape hatch) is honoured.
  const ok = await fx.call('ADD', ctr, 'eth0', fx.conf('1.0.0'));
  t.is(ok.code, 0, ok.stdout);
  t.is((await fx.call('DEL', ctr, 'eth0', fx.conf('1.0.0'))).code, 0);
  const lo = await callPlugin('loopback', { command: 'ADD', containerId: 'c1', netns: fx.host.path, ifname: 'eth0', extra: { CNI_NETNS_OVERRIDE: '1' } }, confs.loopback('1.0.0'), { hostNetns: fx.host.name });
  t.is(lo.code, 0, lo.stdout);
});
