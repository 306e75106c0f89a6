// libcni's result cache: the path, the bytes (the first test moved from test/e2e/runner-pure.test.ts unchanged),
// the file mode, and reading back.

import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheFile, deleteCache, listCache, readCache, serializeAttachment, writeCache } from '../../../lib/libcni/result-cache.ts';

test("libcni's cache bytes: field order, base64 config, sorted maps, omitted empties, Go's HTML escapes", (t) => {
  const s = serializeAttachment({ containerId: 'c1', config: Buffer.from('{"a":1}'), ifName: 'eth0', networkName: 'n', netns: '/x', cniArgs: [], capabilityArgs: { b: 1, a: { d: '<&>', c: 2 } }, result: {} });
  t.is(s, '{"kind":"cniCacheV1","containerId":"c1","config":"eyJhIjoxfQ==","ifName":"eth0","networkName":"n","netns":"/x","capabilityArgs":{"a":{"c":2,"d":"\\u003c\\u0026\\u003e"},"b":1}}');
});

test('cacheFile: <cache>/results/<network>-<container id>-<ifname>', (t) => {
  t.is(cacheFile('/var/lib/cni', { networkName: 'tscni', containerId: 'abc', ifName: 'eth0' }), '/var/lib/cni/results/tscni-abc-eth0');
});

test('write, read back, list and delete; the file is 0600 and the directory 0700', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tscni-unit-cache-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeCache(dir, { containerId: 'c2', config: Buffer.from('{}'), ifName: 'eth1', networkName: 'm', cniArgs: [['K', 'V']], result: { cniVersion: '1.0.0' } });
  const file = join(dir, 'results', 'm-c2-eth1');
  t.is(readFileSync(file, 'utf8'), '{"kind":"cniCacheV1","containerId":"c2","config":"e30=","ifName":"eth1","networkName":"m","cniArgs":[["K","V"]],"result":{"cniVersion":"1.0.0"}}');
  t.is(statSync(file).mode & 0o777, 0o600);
  t.is(statSync(join(dir, 'results')).mode & 0o777, 0o700);
  t.deepEqual(readCache(dir, { networkName: 'm', containerId: 'c2', ifName: 'eth1' }), {
    kind: 'cniCacheV1', containerId: 'c2', config: Buffer.from('{}'), ifName: 'eth1', networkName: 'm', netns: undefined, cniArgs: [['K', 'V']], capabilityArgs: undefined, result: { cniVersion: '1.0.0' },
  });
  // Temp files, other kinds and unreadable JSON are not attachments.
  writeFileSync(join(dir, 'results', 'm-c3-eth0.tmp-1'), '{}');
  writeFileSync(join(dir, 'results', 'x-other'), '{"kind":"somethingElse"}');
  writeFileSync(join(dir, 'results', 'y-broken'), '{');
  t.deepEqual(listCache(dir).map((a) => `${a.networkName}/${a.containerId}/${a.ifName}`), ['m/c2/eth1']);
  deleteCache(dir, { networkName: 'm', containerId: 'c2', ifName: 'eth1' });
  t.is(readCache(dir, { networkName: 'm', containerId: 'c2', ifName: 'eth1' }), undefined);
  t.deepEqual(listCache(join(dir, 'nowhere')), []);
});
