// Isolation between networks, --internal, icc=false and the admin chain, as an exact reachability matrix (ping,
// bounded), with the rules read back with nft; a container on two networks reaches both; nothing per container.

import test from 'ava';
import { ipJson, makeNetns, requireRoot, wireVeth } from '../../helpers/netns.ts';
import { makeRunnerEnv, testNetwork, writeConf, type RunnerEnv, ok } from './harness.ts';

/** Whether `from` gets an answer from `ip` within `tries` pings of 1 s (a blocked one never answers). */
async function reaches(r: RunnerEnv, from: string, ip: string, tries = 3): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if ((await r.tscni(['exec', from, 'ping', '-c', '1', '-W', '1', ip])).code === 0) return true;
  }
  return false;
}

test.serial('isolation matrix: networks apart unless shared, --internal, icc=false, the admin chain survives', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'is');
  const net = (name: string, bridge: string, subnet: string, opts: Record<string, unknown> = {}) => {
    const conf = testNetwork(r, name, bridge, subnet) as any;
    if (opts.internal) {
      conf.plugins[0].ipMasq = false;
      conf.plugins[0].ipam.routes = [];
    }
    // No resolver here (runner-dns covers it): nothing runs on after the test.
    writeConf(r, `20-${name}.conflist`, { ...conf, tscni: opts });
  };
  net('n1', 'tscnitis1', '10.99.91.0/24');
  net('n2', 'tscnitis2', '10.99.92.0/24');
  net('int', 'tscnitisi', '10.99.93.0/24', { internal: true });
  net('quiet', 'tscnitisq', '10.99.94.0/24', { icc: false });
  const ext = makeNetns(t, 'isext');
  wireVeth(r.host, 'tscnitisx', '10.99.95.1/24', ext, 'eth0', '10.99.95.2/24');

  const run = (name: string, network: string) => ok(t, r, ['run', '-d', '--network', network, '--name', name, 'busybox', 'sleep', '120']);
  for (const [name, network] of [['a', 'n1'], ['b', 'n2'], ['c', 'n2'], ['i1', 'int'], ['i2', 'int'], ['q1', 'quiet'], ['q2', 'quiet']]) await run(name, network);
  await ok(t, r, ['network', 'connect', 'n1', 'c']);
  const info = async (n: string) => JSON.parse((await ok(t, r, ['inspect', n])).stdout)[0].NetworkSettings.Networks;
  const ip = async (n: string, network: string) => (await info(n))[network].IPAddress as string;
  const [a, b, c2, c1, i1, i2, q2] = await Promise.all([ip('a', 'n1'), ip('b', 'n2'), ip('c', 'n2'), ip('c', 'n1'), ip('i1', 'int'), ip('i2', 'int'), ip('q2', 'quiet')]);

  const matrix: [string, string, string, boolean][] = [
    ['a', 'b', b, false],
    ['b', 'a', a, false],
    ['c', 'a (shared n1)', a, true],
    ['a', 'c on n1', c1, true],
    ['a', 'c on n2', c2, false],
    ['b', 'c on n2', c2, true],
    ['a', 'outside', '10.99.95.2', true],
    ['i1', 'i2', i2, true],
    ['i1', 'outside', '10.99.95.2', false],
    ['i1', 'a', a, false],
    ['a', 'i1', i1, false],
    ['q1', 'q2', q2, false],
    ['q1', 'its gateway', '10.99.94.1', true],
    ['q1', 'outside', '10.99.95.2', true],
  ];
  // In parallel; one ping for the pairs that must not answer (a retry could only hide an answer), three otherwise.
  const got = await Promise.all(matrix.map(async ([from, what, addr, want]) => [from, what, await reaches(r, from, addr, want ? 3 : 1)]));
  t.deepEqual(got, matrix.map(([f, w, , want]) => [f, w, want]));

  // The rules: a fixed handful, sets keyed by bridge, nothing per container.
  const elem = (e: any) => (typeof e === 'string' ? e : e.concat.join('.'));
  const sets = JSON.parse(r.host.run(['/usr/sbin/nft', '-j', 'list', 'sets'])).nftables.filter((o: any) => o.set?.table === 'tscni_runner').map((o: any) => [o.set.family, o.set.name, (o.set.elem ?? []).map(elem).sort()]);
  t.deepEqual(sets, [
    ['inet', 'bridges', ['tscnitis1', 'tscnitis2', 'tscnitisi', 'tscnitisq']],
    ['inet', 'internal', ['tscnitisi']],
    ['inet', 'same', ['tscnitis1.tscnitis1', 'tscnitis2.tscnitis2', 'tscnitisi.tscnitisi', 'tscnitisq.tscnitisq']],
    ['bridge', 'noicc_ports', ipJson(r.host, ['link', 'show', 'master', 'tscnitisq']).map((l: any) => l.ifname).sort()],
  ]);
  const rules = JSON.parse(r.host.run(['/usr/sbin/nft', '-j', 'list', 'table', 'inet', 'tscni_runner'])).nftables.filter((o: any) => o.rule);
  t.is(rules.length, 6);

  // The admin chain: evaluated first, never flushed by a later start.
  r.host.run(['/usr/sbin/nft', 'add', 'rule', 'inet', 'tscni_runner', 'user', 'ip', 'daddr', '10.99.95.2', 'drop']);
  await run('late', 'n1');
  t.false(await reaches(r, 'a', '10.99.95.2'));
  t.regex(r.host.run(['/usr/sbin/nft', 'list', 'chain', 'inet', 'tscni_runner', 'user']), /ip daddr 10\.99\.95\.2 drop/);
  await ok(t, r, ['rm', '-f', 'a', 'b', 'c', 'i1', 'i2', 'q1', 'q2', 'late']);
  // Released: the no-icc ports are gone; the per-network elements and the admin's rule stay.
  t.deepEqual(JSON.parse(r.host.run(['/usr/sbin/nft', '-j', 'list', 'set', 'bridge', 'tscni_runner', 'noicc_ports'])).nftables[1].set.elem, undefined);
  t.regex(r.host.run(['/usr/sbin/nft', 'list', 'chain', 'inet', 'tscni_runner', 'user']), /ip daddr 10\.99\.95\.2 drop/);
  // network rm takes the network's elements along.
  await ok(t, r, ['network', 'rm', 'int']);
  const after = JSON.parse(r.host.run(['/usr/sbin/nft', '-j', 'list', 'sets', 'inet'])).nftables.filter((o: any) => o.set?.table === 'tscni_runner').map((o: any) => [o.set.name, (o.set.elem ?? []).map(elem).sort()]);
  t.deepEqual(after, [
    ['bridges', ['tscnitis1', 'tscnitis2', 'tscnitisq']],
    ['internal', []],
    ['same', ['tscnitis1.tscnitis1', 'tscnitis2.tscnitis2', 'tscnitisq.tscnitisq']],
  ]);
});
