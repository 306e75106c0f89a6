// portmap read-back (pure): CHECK against the listed elements, STATUS against the table's chains, maps, sets, rules.

import test from 'ava';
import { conditionsOf } from '../../../plugins/portmap/conditions.ts';
import { listedElements } from '../../../plugins/portmap/ledger.ts';
import { conditionSet, entriesOf, jumps, skeleton } from '../../../plugins/portmap/rules.ts';
import { checkEntries, rulesPerChain, statusProblem } from '../../../plugins/portmap/verify.ts';
import { cfgOf, listing, v4, v6 } from './fixtures.ts';

test('CHECK read-back names the first problem; STATUS names what is missing', (t) => {
  const items = listedElements(listing);
  const e = entriesOf(cfgOf([{ hostPort: 8080, containerPort: 80 }]), [v4]);
  t.is(checkEntries(e, items, 'net c1 eth0'), undefined);
  t.is(checkEntries(e, items, 'net c9 eth0'), 'portMappings[0] tcp 0.0.0.0:8080 is held by "net c1 eth0", not "net c9 eth0"');
  t.is(checkEntries(entriesOf(cfgOf([{ hostPort: 8080, containerPort: 81 }]), [v4]), items, 'net c1 eth0'), 'portMappings[0] tcp 0.0.0.0:8080 points at 80 in map port4_any, expected 81');
  t.is(checkEntries(entriesOf(cfgOf([{ hostPort: 8080, containerPort: 80 }]), [v6]), items, 'net c1 eth0'), 'portMappings[0] tcp [::]:8080 is not published (no element in map addr6_any)');
  t.is(statusProblem(undefined), 'table inet tscni_portmap is missing (flushed ruleset?)');
  t.is(statusProblem(listing), 'table inet tscni_portmap lacks chain prerouting, chain output, chain hostports, chain conditions, chain postrouting, chain guard, map port4, map addr6, map port6, map addr6_any, map port6_any, set hairpin4, set hairpin6, set local4, set all6, set condsets');
  const whole = skeleton().filter((c: any) => c.add).map((c: any) => c.add);
  t.is(statusProblem(whole), undefined);
  t.is(statusProblem(whole.filter((o: any) => !(o.rule?.chain === 'hostports'))), 'table inet tscni_portmap: chain hostports has 0 rules, expected 5');
  // A conditions set registered in `condsets` needs its chain with four rules, its maps, and a jump in `conditions`.
  const cond = conditionsOf(['ip', 'saddr', '10.0.0.0/8'], [])!;
  const withSet = [...whole, ...conditionSet(cond).filter((c: any) => c.add && !c.add.element).map((c: any) => c.add), ...jumps([cond.tag]).map((c: any) => c.add)];
  const registered = withSet.map((o: any) => (o.set?.name === 'condsets' ? { set: { ...o.set, elem: [parseInt(cond.tag, 16)] } } : o));
  t.is(statusProblem(registered), undefined);
  t.is(statusProblem(registered.filter((o: any) => o.rule?.chain !== 'conditions')), 'table inet tscni_portmap: chain conditions has 0 rules, expected 1');
  t.is(statusProblem(registered.filter((o: any) => o.map?.name !== `addr4_c${cond.tag}`)), `table inet tscni_portmap lacks map addr4_c${cond.tag}`);
});

test('expected rule counts come from the builders: skeleton() per chain, conditionSet() per conditions chain', (t) => {
  t.deepEqual(Object.fromEntries(rulesPerChain(skeleton())), { prerouting: 1, output: 2, hostports: 5, postrouting: 5, guard: 2 });
  const cond = conditionsOf(['iifname', 'eth0'], [])!;
  t.deepEqual(Object.fromEntries(rulesPerChain(conditionSet(cond))), { [`cond_${cond.tag}`]: 4 });
  const whole = skeleton().filter((c: any) => c.add).map((c: any) => c.add);
  const extra = [...whole, { rule: { family: 'inet', table: 'tscni_portmap', chain: 'guard', expr: [{ accept: null }] } }];
  t.is(statusProblem(extra), 'table inet tscni_portmap: chain guard has 3 rules, expected 2', 'a foreign rule in a chain is reported');
});

test('CHECK names an element held with the right owner but the wrong address', (t) => {
  const items = listedElements(listing);
  const other = entriesOf(cfgOf([{ hostPort: 8080, containerPort: 80 }]), [{ ...v4, address: '10.88.0.9' }]);
  t.is(checkEntries(other, items, 'net c1 eth0'), 'portMappings[0] tcp 0.0.0.0:8080 points at "10.88.0.5" in map addr4_any, expected "10.88.0.9"');
});
