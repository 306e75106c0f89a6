// The in-process IPAM API (lib/ipam/verbs.ts, bridge's fast path) and the host-local executable share one store and behave identically.

import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ipamAdd, ipamCheck, ipamDel, ipamGc, ipamStatus } from '../../lib/ipam/verbs.ts';
import { formatResult } from '../../lib/cni/result.ts';
import { callPlugin } from '../helpers/plugin.ts';

test('in-process calls and exec calls interleave on one store with the same answers', async (t) => {
  const d = mkdtempSync(join(tmpdir(), 'tscni-hl-inproc-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  const conf = { cniVersion: '1.1.0', name: 'inproc', type: 'host-local', ipam: { type: 'host-local', dataDir: d, ranges: [[{ subnet: '10.80.0.0/29' }], [{ subnet: 'fd80::/64' }]] } };
  const exec = (command: string, id: string, extra: object = {}) => callPlugin('host-local', { command, containerId: id, ifname: 'eth0', netns: '/proc/self/ns/net' }, { ...conf, ...extra });
  const a = await ipamAdd(conf, '1.1.0', { containerId: 'a', ifname: 'eth0' });
  t.deepEqual(a, { ips: [{ address: '10.80.0.2/29', gateway: '10.80.0.1' }, { address: 'fd80::2/64', gateway: 'fd80::1' }] });
  const b = await exec('ADD', 'b');
  t.deepEqual(b.json, { cniVersion: '1.1.0', ips: [{ address: '10.80.0.3/29', gateway: '10.80.0.1' }, { address: 'fd80::3/64', gateway: 'fd80::1' }] });
  const c = await ipamAdd(conf, '1.1.0', { containerId: 'c', ifname: 'eth0', args: 'IP=10.80.0.6' });
  t.deepEqual(formatResult(c, '1.1.0'), { cniVersion: '1.1.0', ips: [{ address: '10.80.0.6/29', gateway: '10.80.0.1' }, { address: 'fd80::4/64', gateway: 'fd80::1' }] });
  await ipamCheck(conf, '1.1.0', { containerId: 'b', ifname: 'eth0' }, { ips: b.json.ips });
  const err = await t.throwsAsync(ipamAdd(conf, '1.1.0', { containerId: 'b', ifname: 'eth0' }));
  t.deepEqual([(err as any).code, err?.message], [999, 'failed to allocate for range 0: 10.80.0.3 has been allocated to b, duplicate allocation is not allowed']);
  await ipamDel(conf, { containerId: 'a', ifname: 'eth0' });
  t.is((await exec('CHECK', 'a', { prevResult: { cniVersion: '1.1.0', ips: a.ips } })).json.code, 999);
  await ipamGc({ ...conf, 'cni.dev/valid-attachments': [{ containerID: 'c', ifname: 'eth0' }] });
  t.is((await exec('CHECK', 'b', { prevResult: b.json })).json.code, 999, 'GC released b');
  await ipamStatus(conf, '1.1.0');
  const d2 = await exec('ADD', 'd');
  t.deepEqual(d2.json.ips.map((i: any) => i.address), ['10.80.0.2/29', 'fd80::5/64'], 'round robin continues after the requested .6 and wraps');
});
