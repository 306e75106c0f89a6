// A running agent applies a change of a few peers as a delta pass (only those peers' entries written, the kernel not
// re-read); a delta the kernel refuses (a new peer's prefix already routed by someone else) falls back to a full pass,
// which reports the conflict and leaves the foreign route alone; the other peers keep their routes throughout.

import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeNetns, requireRoot } from '../../helpers/netns.ts';
import { TSCNI, within } from './cluster.ts';

const peer = (i: number, addr = `192.168.50.${10 + i}`) => ({ name: `n${i}`, address: addr, podCIDRs: [`10.244.${i}.0/24`] });

test('changes while running are delta passes; a refused delta falls back to a full pass that reports the conflict', async (t) => {
  if (!requireRoot(t)) return;
  const ns = makeNetns(t, 'delta');
  const dir = mkdtempSync(join(tmpdir(), 'tscni-agent-delta-'));
  ns.run(['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p']);
  ns.run(['ip', 'addr', 'add', '192.168.50.11/24', 'dev', 'eth0']);
  for (const l of ['eth0', 'eth0p']) ns.run(['ip', 'link', 'set', l, 'up']);
  const file = join(dir, 'peers.json');
  const write = (peers: object[]) => {
    writeFileSync(`${file}.tmp`, JSON.stringify({ backend: 'host-gw', peers }));
    renameSync(`${file}.tmp`, file);
  };
  const stateDir = join(dir, 'state');
  const status = () => { try { return JSON.parse(readFileSync(join(stateDir, 'status.json'), 'utf8')); } catch { return undefined; } };
  const routes = () => ns.run(['ip', 'route', 'show', 'proto', '126']).trim().split('\n').filter(Boolean).map((l) => l.trim());
  write([peer(1), peer(2), peer(3)]);
  const agent = spawn('ip', ['netns', 'exec', ns.name, TSCNI, 'agent', '--config', file, '--node', 'n1', '--state-dir', stateDir], { stdio: 'ignore' });
  t.teardown(() => {
    agent.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  await within(5000, 'the first pass', () => status()?.lastSync !== undefined);
  t.is(status().lastSync.pass, 'full');
  t.deepEqual(routes(), ['10.244.2.0/24 via 192.168.50.12 dev eth0', '10.244.3.0/24 via 192.168.50.13 dev eth0']);

  // n3 moves, n4 joins: one delta pass writes exactly their entries.
  const since = status().lastSync.at;
  write([peer(1), peer(2), peer(3, '192.168.50.33'), peer(4)]);
  await within(3000, 'the delta pass', () => status()?.lastSync.at !== since && status()?.lastSync.changes.length > 0);
  t.is(status().lastSync.pass, 'delta');
  t.deepEqual(status().lastSync.changes, ['route 10.244.3.0/24 via 192.168.50.33 (n3)', 'route 10.244.4.0/24 via 192.168.50.14 (n4)', 'masquerade exemption: +10.244.4.0/24']);
  t.deepEqual(routes(), ['10.244.2.0/24 via 192.168.50.12 dev eth0', '10.244.3.0/24 via 192.168.50.33 dev eth0', '10.244.4.0/24 via 192.168.50.14 dev eth0']);
  t.deepEqual(status().peers.map((p: any) => [p.name, p.state, p.entries]), [['n1', 'self', 0], ['n2', 'synced', 1], ['n3', 'synced', 1], ['n4', 'synced', 1]]);

  // n2 leaves and n5 joins where someone else already routes 10.244.5.0/24: the exclusive add fails, the full pass
  // that follows reports n5 and removes n2's route; the foreign route stays as it was.
  ns.run(['ip', 'route', 'add', '10.244.5.0/24', 'via', '192.168.50.99', 'proto', 'static']);
  write([peer(1), peer(3, '192.168.50.33'), peer(4), peer(5)]);
  await within(3000, 'n5 reported', () => (status()?.lastSync.error ?? '').includes('n5'));
  t.is(status().lastSync.pass, 'full');
  t.is(status().lastSync.error, 'n5: route 10.244.5.0/24 exists and is not tscni\'s (protocol 4): left alone');
  t.deepEqual(routes(), ['10.244.3.0/24 via 192.168.50.33 dev eth0', '10.244.4.0/24 via 192.168.50.14 dev eth0']);
  t.is(ns.run(['ip', 'route', 'show', '10.244.5.0/24']).trim(), '10.244.5.0/24 via 192.168.50.99 dev eth0 proto static');
  const nomasq = JSON.parse(ns.run(['/usr/sbin/nft', '-j', 'list', 'set', 'inet', 'tscni_bridge', 'nomasq4'])).nftables.find((x: any) => x.set).set;
  t.deepEqual(nomasq.elem.map((e: any) => `${e.elem.val.prefix.addr}/${e.elem.val.prefix.len}`), ['10.244.1.0/24', '10.244.3.0/24', '10.244.4.0/24', '10.244.5.0/24']);
});
