// host-local against the reference (/usr/lib/cni/host-local, Debian 1.1.1): same inputs, separate dataDirs, same answers.
//
// Known 1.1.1 differences, normalised or asserted below:
//  1. 1.1.1 prints "dns":{} when there is no resolvConf; tscni leaves an empty dns out (as libcni >= 1.0 does).
//  2. 1.1.1 stops at spec 1.0.0 (1.1.0 is its code 1); the comparison runs 0.1.0 .. 1.0.0.
//  3. 1.1.1's error JSON has no cniVersion; tscni's has one. Codes differ where tscni is more specific:
//     invalid ranges, overlaps, a gateway requested and an unmatched requested IP are 7 (1.1.1: 999); an exhausted
//     pool is 11 "try again later" (1.1.1: 999, same message); more than one address per family below 0.3.0 is 1
//     (1.1.1: 999). Messages of config errors differ (tscni names the field and value).
//  4. 1.1.1 keeps one file per IP; tscni keeps leases.json. Only results and codes are compared, never the files.

import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callPlugin, REF_BIN } from '../../helpers/plugin.ts';

const REF = join(REF_BIN, 'host-local');
const VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0'] as const;

interface Side {
  bin: string;
  dataDir: string;
}

function sides(t: ExecutionContext): [Side, Side] {
  const root = mkdtempSync(join(tmpdir(), 'tscni-hl-diff-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  return [
    { bin: REF, dataDir: join(root, 'ref') },
    { bin: 'host-local', dataDir: join(root, 'ours') },
  ];
}

type Step = { command: string; id?: string; ifname?: string; args?: string; conf: (dataDir: string) => object };

function normalise(json: any): any {
  if (!json) return json;
  const out = { ...json };
  if (out.dns && Object.keys(out.dns).length === 0) delete out.dns;
  if ('code' in out) delete out.cniVersion;
  return out;
}

async function runBoth(side: Side, step: Step) {
  const r = await callPlugin(side.bin, { command: step.command, containerId: step.id ?? 'c1', ifname: step.ifname ?? 'eth0', netns: '/proc/self/ns/net', args: step.args }, step.conf(side.dataDir));
  return { code: r.code, json: normalise(r.json) };
}

/** Runs the steps on both plugins in lock step; every answer must match exactly unless `expectDiff` says otherwise. */
async function compare(t: ExecutionContext, steps: Step[], expectDiff: Record<number, (ref: any, ours: any) => void> = {}) {
  const [ref, ours] = sides(t);
  for (const [i, step] of steps.entries()) {
    const a = await runBoth(ref, step);
    const b = await runBoth(ours, step);
    if (expectDiff[i]) expectDiff[i](a, b);
    else t.deepEqual(b, a, `step ${i} ${step.command} ${step.id ?? 'c1'}`);
  }
}

const conf = (ipam: object, v = '1.0.0', extra: object = {}) => (dataDir: string) => ({ cniVersion: v, name: 'diffnet', type: 'host-local', ipam: { type: 'host-local', dataDir, ...ipam }, ...extra });
const add = (c: Step['conf'], id = 'c1', args?: string): Step => ({ command: 'ADD', id, conf: c, args });
const del = (c: Step['conf'], id = 'c1'): Step => ({ command: 'DEL', id, conf: c });

for (const v of VERSIONS) {
  test(`same results at ${v}: v4+v6, routes, round robin across DEL`, async (t) => {
    const c = conf({ ranges: [[{ subnet: '10.40.0.0/29' }], [{ subnet: 'fd40::/125' }]], routes: [{ dst: '0.0.0.0/0' }, { dst: 'fd99::/64', gw: 'fd40::6' }] }, v);
    await compare(t, [add(c, 'a'), add(c, 'b'), del(c, 'a'), add(c, 'c'), add(c, 'd'), add(c, 'e'), add(c, 'f'), del(c, 'a'), del(c, 'zz')]);
  });
}

test('same results: legacy subnet with rangeStart, rangeEnd and gateway', async (t) => {
  const c = conf({ subnet: '10.41.0.0/24', rangeStart: '10.41.0.10', rangeEnd: '10.41.0.12', gateway: '10.41.0.11' });
  await compare(t, [add(c, 'a'), add(c, 'b'), del(c, 'a'), add(c, 'c')]);
});

test('same results: several pools in one set wrap from range to range', async (t) => {
  const c = conf({ ranges: [[{ subnet: '10.42.0.0/30' }, { subnet: '10.42.1.0/29', rangeStart: '10.42.1.3', rangeEnd: '10.42.1.4' }]] });
  await compare(t, [add(c, 'a'), add(c, 'b'), add(c, 'c'), del(c, 'b'), add(c, 'd'), del(c, 'a'), add(c, 'e')]);
});

test('same results: IPv6 only, explicit gateway', async (t) => {
  const c = conf({ ranges: [[{ subnet: '2001:db8:42::/64', gateway: '2001:db8:42::fffe', rangeStart: '2001:db8:42::fffd' }]] });
  await compare(t, [add(c, 'a'), add(c, 'b'), add(c, 'c')]);
});

test('same results: requested IPs from CNI_ARGS, args.cni.ips and runtimeConfig.ips; runtimeConfig.ipRanges', async (t) => {
  const ipam = { ranges: [[{ subnet: '10.43.0.0/24' }], [{ subnet: 'fd43::/64' }]] };
  await compare(t, [
    add(conf(ipam), 'a', 'IP=10.43.0.77'),
    add(conf(ipam, '1.0.0', { args: { cni: { ips: ['fd43::99'] } } }), 'b'),
    add(conf(ipam, '1.0.0', { runtimeConfig: { ips: ['10.43.0.200/24', 'fd43::7/64'] } }), 'c'),
    add(conf(ipam), 'd'),
    add(conf({ ranges: [[{ subnet: '10.44.0.0/24' }]] }, '1.0.0', { runtimeConfig: { ipRanges: [[{ subnet: '10.45.0.0/24' }]] } }), 'e'),
  ]);
});

test('same results: resolvConf becomes dns', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tscni-hl-resolv-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'resolv.conf'), '# x\nnameserver 10.0.0.53\nnameserver fd00::53\ndomain d.test\nsearch s1.test s2.test\noptions ndots:3 rotate\n');
  await compare(t, [add(conf({ subnet: '10.46.0.0/24', resolvConf: join(dir, 'resolv.conf') }))]);
});

test('same answers: duplicate allocation is the same 999 error', async (t) => {
  const c = conf({ subnet: '10.47.0.0/24' });
  await compare(t, [add(c), add(c)]);
});

test('same answers: CHECK after ADD passes on both', async (t) => {
  const [ref, ours] = sides(t);
  const c = conf({ subnet: '10.48.0.0/24' });
  for (const side of [ref, ours]) {
    const a = await runBoth(side, add(c));
    const r = await runBoth(side, { command: 'CHECK', conf: (d) => ({ ...c(d), prevResult: a.json }) });
    t.deepEqual(r, { code: 0, json: undefined }, side.bin);
  }
});

test('known difference: an exhausted pool is code 11 here, 999 in 1.1.1, with the same message', async (t) => {
  const c = conf({ subnet: '10.49.0.0/30' });
  await compare(t, [add(c, 'a'), add(c, 'b')], {
    1: (ref, ours) => {
      t.deepEqual(ref, { code: 1, json: { code: 999, msg: 'failed to allocate for range 0: no IP addresses available in range set: 10.49.0.1-10.49.0.2' } });
      t.deepEqual(ours, { code: 1, json: { ...ref.json, code: 11 } });
    },
  });
});

const badRows: [string, object, string, number, number][] = [
  ['subnet /31', { subnet: '10.50.0.0/31' }, '1.0.0', 999, 7],
  ['rangeStart outside the subnet', { ranges: [[{ subnet: '10.50.0.0/24', rangeStart: '10.50.1.1' }]] }, '1.0.0', 999, 7],
  ['range sets overlapping', { ranges: [[{ subnet: '10.50.0.0/24' }], [{ subnet: '10.50.0.0/25' }]] }, '1.0.0', 999, 7],
  ['host bits set', { subnet: '10.50.0.1/24' }, '1.0.0', 999, 7],
  ['two IPv4 sets at 0.2.0', { ranges: [[{ subnet: '10.50.0.0/24' }], [{ subnet: '10.51.0.0/24' }]] }, '0.2.0', 999, 1],
  ['no ranges', {}, '1.0.0', 999, 7],
];

for (const [what, ipam, v, refCode, ourCode] of badRows) {
  test(`known difference: ${what} is ${ourCode} here, ${refCode} in 1.1.1; both fail and allocate nothing`, async (t) => {
    await compare(t, [add(conf(ipam, v)), del(conf({ subnet: '10.50.0.0/24' }, v))], {
      0: (ref, ours) => {
        t.deepEqual([ref.code, ref.json.code], [1, refCode]);
        t.deepEqual([ours.code, ours.json.code], [1, ourCode]);
      },
    });
  });
}

test('known difference: a requested gateway is 7 here, 999 in 1.1.1', async (t) => {
  await compare(t, [add(conf({ subnet: '10.52.0.0/24' }, '1.0.0', { runtimeConfig: { ips: ['10.52.0.1'] } }))], {
    0: (ref, ours) => {
      t.deepEqual(ref.json, { code: 999, msg: "failed to allocate for range 0: requested ip 10.52.0.1 is subnet's gateway" });
      t.deepEqual(ours.json, { code: 7, msg: 'invalid runtimeConfig.ips[0] "10.52.0.1": is the gateway of range 10.52.0.1-10.52.0.254; it is never handed out' });
    },
  });
});

test('known difference: spec 1.1.0 is code 1 in 1.1.1 and works here', async (t) => {
  await compare(t, [add(conf({ subnet: '10.53.0.0/24' }, '1.1.0'))], {
    0: (ref, ours) => {
      t.is(ref.json.code, 1);
      t.deepEqual(ours, { code: 0, json: { cniVersion: '1.1.0', ips: [{ address: '10.53.0.2/24', gateway: '10.53.0.1' }] } });
    },
  });
});
