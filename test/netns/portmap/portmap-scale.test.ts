// portmap at scale: 200 attachments each publishing a port (addresses on one container netns), real traffic to a
// sample, then DEL in random order leaves the table exactly as before (rule handles aside: every ADD refills chains).
// Two tests sharing one fixture, so each stays well inside ava's per-test inactivity timeout on a loaded machine.

import test, { type ExecutionContext } from 'ava';
import { randomInt } from 'node:crypto';
import { callPlugin } from '../../helpers/plugin.ts';
import { requireRoot, type TestNetns } from '../../helpers/netns.ts';
import { answer, HOST4, makeBridgeHost, serve, tcp, type BridgeHost, type Container } from '../../helpers/veth-container.ts';

const NFT = '/usr/sbin/nft';
const N = 200;

const normalized = (h: TestNetns) => JSON.stringify(JSON.parse(h.run([NFT, '-j', 'list', 'table', 'inet', 'tscni_portmap'])).nftables.slice(1), (k, v) => (k === 'handle' ? undefined : v));

async function pool<T>(items: T[], width: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

// The fixture outlives one test: its teardowns run after both (makeNetns and serve only use `teardown`).
const cleanups: (() => void)[] = [];
const lifetime = { teardown: (fn: () => void) => cleanups.push(fn) } as unknown as ExecutionContext;
test.after.always(() => {
  for (const fn of cleanups.reverse()) fn();
});

let fx: BridgeHost;
let c: Container;
let baseline = '';

const stdin = (i: number, withMappings: boolean) => ({
  cniVersion: '1.1.0',
  name: 'scale',
  type: 'portmap',
  ...(withMappings ? { runtimeConfig: { portMappings: [{ hostPort: 20000 + i, containerPort: 80 }] } } : {}),
  prevResult: { cniVersion: '1.1.0', interfaces: [{ name: 'eth0', sandbox: c.ns.path }], ips: [{ address: `10.88.0.${20 + i}/24`, interface: 0 }] },
});
const call = (command: string, i: number, withMappings = true) =>
  callPlugin('portmap', { command, containerId: `ctr-${i}`, netns: c.ns.path, ifname: 'eth0' }, stdin(i, withMappings), { hostNetns: fx.host.name });

test.serial(`${N} attachments publish a port each, 4 at a time, all forwarding to their own address`, async (t) => {
  if (!requireRoot(t)) return;
  t.timeout(10 * 60_000, '200 plugin executions on a shared 2-core machine');
  fx = makeBridgeHost(lifetime);
  c = fx.addContainer(10, { v6: false });
  c.ns.run(['ip', '-batch', '-'], Array.from({ length: N }, (_, i) => `addr add 10.88.0.${20 + i}/24 dev eth0`).join('\n') + '\n');
  await serve(lifetime, c.ns, 80, 'c');
  // The table skeleton exists from the first ADD on; take the baseline after one ADD and DEL.
  t.is((await call('ADD', N)).code, 0);
  t.is((await call('DEL', N, false)).code, 0);
  baseline = normalized(fx.host);
  await pool(Array.from({ length: N }, (_, i) => i), 4, async (i) => {
    const r = await call('ADD', i);
    if (r.code !== 0) t.fail(`ADD ${i}: ${r.stdout}`);
  });
  const listed = fx.host.run([NFT, 'list', 'map', 'inet', 'tscni_portmap', 'addr4_any']);
  t.is([...listed.matchAll(/tcp \. (\d+) comment "scale ctr-(\d+) eth0" : 10\.88\.0\.(\d+)/g)].filter((m) => +m[1] === 20000 + +m[2] && +m[3] === 20 + +m[2]).length, N);
  for (let k = 0; k < 5; k++) {
    const i = randomInt(N);
    t.is(tcp(fx.outside, HOST4, 20000 + i), answer('c', `10.88.0.${20 + i}`), `mapping ${i}`);
  }
});

test.serial(`DEL of the ${N} in random order, 4 at a time, restores the table`, async (t) => {
  if (!requireRoot(t)) return;
  t.timeout(10 * 60_000, '200 plugin executions on a shared 2-core machine');
  t.truthy(baseline, 'the ADD test ran');
  const order = Array.from({ length: N }, (_, i) => i).sort(() => randomInt(3) - 1);
  await pool(order, 4, async (i) => {
    const r = await call('DEL', i, false);
    if (r.code !== 0) t.fail(`DEL ${i}: ${r.stdout}`);
  });
  t.is(normalized(fx.host), baseline);
});
