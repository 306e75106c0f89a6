import test from 'ava';
import { formatResult, parseResult, checkResultFitsVersion } from '../../../lib/cni/result.ts';

const canonical = {
  interfaces: [{ name: 'cni0', mac: 'aa:bb:cc:dd:ee:ff' }, { name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/var/run/netns/x', mtu: 1400 }],
  ips: [
    { address: '10.1.0.5/24', gateway: '10.1.0.1', interface: 1 },
    { address: 'fd00::5/64', gateway: 'fd00::1', interface: 1 },
  ],
  routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1', priority: 5 }, { dst: '::/0' }],
  dns: { nameservers: ['10.1.0.1'], search: [] },
};

test('1.1.0 keeps the 1.1 fields', (t) => {
  t.deepEqual(formatResult(canonical, '1.1.0'), {
    cniVersion: '1.1.0',
    interfaces: [{ name: 'cni0', mac: 'aa:bb:cc:dd:ee:ff' }, { name: 'eth0', mac: '02:00:00:00:00:01', mtu: 1400, sandbox: '/var/run/netns/x' }],
    ips: [
      { interface: 1, address: '10.1.0.5/24', gateway: '10.1.0.1' },
      { interface: 1, address: 'fd00::5/64', gateway: 'fd00::1' },
    ],
    routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1', priority: 5 }, { dst: '::/0' }],
    dns: { nameservers: ['10.1.0.1'] },
  });
});

test('1.0.0 drops mtu and route priority, has no ip version', (t) => {
  const out = formatResult(canonical, '1.0.0') as any;
  t.deepEqual(out.interfaces[1], { name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/var/run/netns/x' });
  t.deepEqual(out.routes, [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }, { dst: '::/0' }]);
  t.false('version' in out.ips[0]);
});

for (const v of ['0.3.0', '0.3.1', '0.4.0']) {
  test(`${v} carries a version per IP`, (t) => {
    const out = formatResult(canonical, v) as any;
    t.is(out.cniVersion, v);
    t.deepEqual(out.ips, [
      { version: '4', interface: 1, address: '10.1.0.5/24', gateway: '10.1.0.1' },
      { version: '6', interface: 1, address: 'fd00::5/64', gateway: 'fd00::1' },
    ]);
  });
}

for (const v of ['0.1.0', '0.2.0']) {
  test(`${v} uses ip4/ip6 with routes split by family`, (t) => {
    t.deepEqual(formatResult(canonical, v), {
      cniVersion: v,
      ip4: { ip: '10.1.0.5/24', gateway: '10.1.0.1', routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }] },
      ip6: { ip: 'fd00::5/64', gateway: 'fd00::1', routes: [{ dst: '::/0' }] },
      dns: { nameservers: ['10.1.0.1'] },
    });
  });
}

test('parseResult reads the 0.2.0 shape back into the canonical one', (t) => {
  const r = parseResult({ cniVersion: '0.2.0', ip4: { ip: '10.0.0.2/24', gateway: '10.0.0.1', routes: [{ dst: '0.0.0.0/0' }] } });
  t.deepEqual(r, { ips: [{ address: '10.0.0.2/24', gateway: '10.0.0.1' }], routes: [{ dst: '0.0.0.0/0' }] });
});

test('parseResult round-trips every version', (t) => {
  for (const v of ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']) {
    const printed = formatResult(canonical, v);
    t.deepEqual(formatResult(parseResult(printed), v), printed, v);
  }
});

test('parseResult rejects something that is not a result with code 7', (t) => {
  const err = t.throws(() => parseResult('nope')) as any;
  t.is(err.code, 7);
  const err2 = t.throws(() => parseResult({ ips: [{ address: 5 }] })) as any;
  t.is(err2.code, 7);
  t.regex(err2.message, /prevResult\.ips\[0\]\.address/);
});

test('two addresses of one family do not fit 0.2.0', (t) => {
  const r = { ips: [{ address: '10.0.0.2/24' }, { address: '10.0.1.2/24' }] };
  const err = t.throws(() => checkResultFitsVersion(r, '0.2.0')) as any;
  t.is(err.code, 1);
  t.notThrows(() => checkResultFitsVersion(r, '0.3.0'));
});
