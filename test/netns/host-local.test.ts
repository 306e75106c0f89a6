// host-local with real namespaces: a test netns as CNI_NETNS, DEL after the netns is gone, a read-only dataDir.

import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeNetns, requireRoot } from '../helpers/netns.ts';
import { callPlugin, DIST_BIN } from '../helpers/plugin.ts';

function tempDir(t: ExecutionContext): string {
  const d = mkdtempSync(join(tmpdir(), 'tscni-hl-ns-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const net = (dataDir: string) => ({ cniVersion: '1.1.0', name: 'nsnet', type: 'host-local', ipam: { type: 'host-local', dataDir, subnet: '10.70.0.0/24' } });
const addresses = (d: string) => JSON.parse(readFileSync(join(d, 'nsnet', 'leases.json'), 'utf8')).a;

test('ADD with a test netns as CNI_NETNS; DEL after the netns is gone still releases', async (t) => {
  if (!requireRoot(t)) return;
  const host = makeNetns(t, 'hlhost');
  const ctr = makeNetns(t, 'hlctr');
  const d = tempDir(t);
  const env = { containerId: 'nsc', ifname: 'eth0', netns: ctr.path };
  const add = await callPlugin('host-local', { command: 'ADD', ...env }, net(d), { hostNetns: host.name });
  t.deepEqual(add.json, { cniVersion: '1.1.0', ips: [{ address: '10.70.0.2/24', gateway: '10.70.0.1' }] });
  t.deepEqual(JSON.parse(ctr.run(['ip', '-j', 'addr', 'show'])).flatMap((l: any) => l.addr_info.map((a: any) => a.local)), ['127.0.0.1', '::1'], 'IPAM touches no interface');
  const check = await callPlugin('host-local', { command: 'CHECK', ...env }, { ...net(d), prevResult: add.json }, { hostNetns: host.name });
  t.deepEqual([check.code, check.stdout], [0, '']);
  ctr.remove();
  const del = await callPlugin('host-local', { command: 'DEL', ...env }, net(d), { hostNetns: host.name });
  t.deepEqual([del.code, del.stdout], [0, '']);
  t.deepEqual(addresses(d), []);
});

test('CNI_NETNS a regular file, a missing path or a directory: code 4 for ADD, nothing created', async (t) => {
  if (!requireRoot(t)) return;
  const d = tempDir(t);
  const data = join(d, 'data');
  const file = join(d, 'file');
  writeFileSync(file, '');
  for (const netns of [file, join(d, 'missing'), d]) {
    const r = await callPlugin('host-local', { command: 'ADD', containerId: 'c', ifname: 'eth0', netns }, net(data));
    t.is(r.json?.code, 4, `${netns}: ${r.stdout}`);
    t.regex(r.json.msg, /^CNI_NETNS /);
  }
  t.deepEqual(readdirSync(d).sort(), ['file']);
});

test('an unwritable dataDir (read-only mount): code 5, nothing written', async (t) => {
  if (!requireRoot(t)) return;
  const d = tempDir(t);
  const ro = join(d, 'ro');
  mkdirSync(ro);
  // A private mount namespace: the read-only bind mount never shows outside this one plugin call.
  const script = 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && exec "$2"';
  for (const dataDir of [ro, join(ro, 'deeper')]) {
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', ro, join(DIST_BIN, 'host-local')], {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c', CNI_IFNAME: 'eth0', CNI_NETNS: '/proc/self/ns/net', CNI_PATH: DIST_BIN },
      input: JSON.stringify(net(dataDir)),
      encoding: 'utf8',
    });
    t.is(r.status, 1, r.stderr);
    t.deepEqual(JSON.parse(r.stdout), { cniVersion: '1.1.0', code: 5, msg: `cannot use ipam.dataDir "${dataDir}": EROFS` });
  }
  t.deepEqual(readdirSync(ro), []);
});
