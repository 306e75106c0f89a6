import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LeaseStore } from '../../../lib/ipam/store-lowdb.ts';

function dir(t: any): string {
  const d = mkdtempSync(join(tmpdir(), 'tscni-hl-store-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('reserve, release and reopen keep the address index exact (swap-remove)', async (t) => {
  const d = dir(t);
  const s = await LeaseStore.open(d, 'boot-A');
  for (let i = 1; i <= 5; i++) s.reserve(`10.0.0.${i}`, `c${i}`, 'eth0', 0, 1000 + i);
  t.deepEqual(s.release((l) => l.id === 'c2' || l.id === 'c4'), ['10.0.0.4', '10.0.0.2']);
  t.deepEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'].map((a) => s.owner(a)?.id ?? null), ['c1', null, 'c3', null, 'c5']);
  t.deepEqual(s.heldBy('c5', 'eth0'), ['10.0.0.5']);
  await s.write();
  t.is(statSync(join(d, 'leases.json')).mode & 0o777, 0o600);
  t.deepEqual(JSON.parse(readFileSync(join(d, 'leases.json'), 'utf8')), {
    v: 1,
    b: ['boot-A'],
    a: ['10.0.0.1', '10.0.0.5', '10.0.0.3'],
    c: ['c1', 'c5', 'c3'],
    i: ['eth0', 'eth0', 'eth0'],
    t: [1001, 1005, 1003],
    o: [0, 0, 0],
    r: { '0': '10.0.0.5' },
  });
  const again = await LeaseStore.open(d, 'boot-A');
  t.deepEqual([...again.leases()].map((l) => [l.address, l.id, l.ifname, l.time, l.bootId]), [
    ['10.0.0.1', 'c1', 'eth0', 1001, 'boot-A'],
    ['10.0.0.5', 'c5', 'eth0', 1005, 'boot-A'],
    ['10.0.0.3', 'c3', 'eth0', 1003, 'boot-A'],
  ]);
});

test('another boot: its leases are not taken, reclaim drops them, write forgets the old boot id', async (t) => {
  const d = dir(t);
  const old = await LeaseStore.open(d, 'boot-A');
  old.reserve('10.0.0.1', 'a', 'eth0', 0, 1);
  old.reserve('10.0.0.2', 'b', 'eth0', 0, 2);
  await old.write();
  const s = await LeaseStore.open(d, 'boot-B');
  t.false(s.isTaken('10.0.0.1'));
  t.deepEqual([...s.leases()], []);
  s.reserve('10.0.0.3', 'c', 'eth0', 1, 3);
  t.is(s.reclaimOtherBoots(), 2);
  await s.write();
  const data = JSON.parse(readFileSync(join(d, 'leases.json'), 'utf8'));
  t.deepEqual([data.b, data.a, data.o, data.r], [['boot-B'], ['10.0.0.3'], [0], { '0': '10.0.0.2', '1': '10.0.0.3' }]);
});

test('a file that is not a v1 store: code 5 naming it', async (t) => {
  const d = dir(t);
  for (const body of ['{"v":1,"b":[],"a":["x"],"c":[],"i":[],"t":[],"o":[],"r":{}}', '{"l":{}}', 'not json']) {
    writeFileSync(join(d, 'leases.json'), body);
    const e = await t.throwsAsync(LeaseStore.open(d, 'b'));
    t.is((e as any).code, 5, body);
    t.true(e!.message.includes(join(d, 'leases.json')), e!.message);
  }
});
