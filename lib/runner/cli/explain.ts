// `tscni explain NAME PORT[/proto]`: the path of a packet to a published port, read back from the live system:
// the nft map elements tagged with the container id, the DNAT target, the route, the host veth and the container side.

import { listNft } from '../../nft/apply.ts';
import { parseArgs } from './args/argv.ts';
import type { Ctx } from '../context.ts';
import { Exit, UsageError, notFound, conflict } from './errors.ts';
import { printHelpIfAsked } from './help.ts';
import { publishedAt } from '../container/network/ports.ts';
import { refreshState } from '../container/stop.ts';
import { capture } from '../../exec/process.ts';

interface MapElem {
  table: string;
  map: string;
  key: unknown;
  value: unknown;
}

const show = (v: unknown): string => {
  if (v && typeof v === 'object' && 'concat' in (v as Record<string, unknown>)) return ((v as { concat: unknown[] }).concat).map(show).join(' . ');
  if (v && typeof v === 'object' && 'elem' in (v as Record<string, unknown>)) return show((v as { elem: { val: unknown } }).elem.val);
  return typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v);
};

function elementsFor(ruleset: Record<string, unknown>[], id: string, port: number, proto: string): MapElem[] {
  const out: MapElem[] = [];
  for (const o of ruleset) {
    const m = o.map as { family: string; table: string; name: string; elem?: [unknown, unknown][] } | undefined;
    if (!m?.elem) continue;
    for (const [k, v] of m.elem) {
      const text = JSON.stringify(k);
      if (!text.includes(id)) continue;
      const key = show(k);
      if (!key.split(' . ').includes(String(port)) || !key.split(' . ').includes(proto)) continue;
      out.push({ table: `${m.family} ${m.table}`, map: m.name, key, value: show(v) });
    }
  }
  return out;
}

async function ipJson(args: string[]): Promise<any[]> {
  const r = await capture('ip', ['-j', ...args]);
  try {
    return JSON.parse(r.stdout || '[]');
  } catch {
    return [];
  }
}

export async function explainCommand(ctx: Ctx, argv: string[], out: (s: string) => void): Promise<number> {
  const p = parseArgs(argv, {}, 'explain');
  if (printHelpIfAsked('explain', p, out)) return Exit.Ok;
  if (p.positionals.length !== 2) throw new UsageError('explain: NAME and PORT are required');
  const c = await refreshState(ctx, ctx.containers.resolve(p.positionals[0]));
  const [portText, protoText] = p.positionals[1].split('/');
  const port = Number(portText);
  const proto = (protoText ?? 'tcp').toLowerCase();
  const mapping = publishedAt(c.ports, port, proto);
  if (!mapping) throw notFound(`container ${c.name} does not publish ${port}/${proto} (published: ${c.ports.map((m) => `${m.hostPort}/${m.protocol}`).join(', ') || 'none'})`);
  if (c.status !== 'running') throw conflict(`container ${c.name} is ${c.status}: nothing is published while it is not running`);
  const ns = c.networkSettings;
  const lines: string[] = [];
  lines.push(`A ${proto} packet to ${mapping.hostIP.includes(':') ? `[${mapping.hostIP}]` : mapping.hostIP || 'any local address'}:${port} (published by ${c.name}, ${c.id.slice(0, 12)}):`);
  if (mapping.hostIP === '::1') {
    const target = ns?.GlobalIPv6Address || ns?.IPAddress || '?';
    lines.push(`1. nftables: nothing (portmap's output chain returns for ::1: the kernel drops DNATed answers to ::1)`);
    lines.push(`2. the userland proxy (tscni __proxy ${c.id.slice(0, 12)}, ${ctx.containers.dir(c.id)}/proxy.pid) accepts it on [::1]:${port}`);
    lines.push(`3. and opens its own connection (or UDP flow) to ${target.includes(':') ? `[${target}]` : target}:${mapping.containerPort}; the container sees the host's bridge address as the source`);
    out(lines.join('\n') + '\n');
    return Exit.Ok;
  }
  const ruleset = (await listNft(['ruleset'])) ?? [];
  const elems = elementsFor(ruleset, c.id, port, proto);
  lines.push('1. nftables: the DNAT lookup (prerouting for traffic from outside, output for traffic from this host)');
  if (elems.length === 0) lines.push(`   no nft map element tagged ${c.id.slice(0, 12)} matches ${proto} ${port}: the portmap plugin in use keeps no tagged maps, or the rules were flushed (tscni check can tell)`);
  for (const e of elems) lines.push(`   table ${e.table}, map ${e.map}: ${e.key} : ${e.value}`);
  lines.push(`2. destination rewritten to ${ns?.IPAddress ?? '?'}:${mapping.containerPort}`);
  const route = ns?.IPAddress ? (await ipJson(['route', 'get', ns.IPAddress]))[0] : undefined;
  if (route) lines.push(`3. route: ${ns!.IPAddress} via dev ${route.dev}${route.gateway ? ` gw ${route.gateway}` : ''} (source ${route.prefsrc ?? '?'})`);
  const veths = (await ipJson(['-d', 'link', 'show', 'type', 'veth'])).filter((l) => typeof l.ifalias === 'string' && l.ifalias.includes(c.id));
  for (const v of veths) lines.push(`4. bridge ${v.master ?? '?'} → host veth ${v.ifname} (alias "${v.ifalias}")`);
  if (veths.length === 0) lines.push('4. host veth: none tagged with this container (the bridge plugin in use sets no alias)');
  lines.push(`5. container netns /var/run/netns/${c.netnsName}: ${c.ifName} ${ns?.IPAddress ?? '?'}/${ns?.IPPrefixLen ?? '?'} (mac ${ns?.MacAddress ?? '?'}), gateway ${ns?.Gateway ?? '?'}, the process listens on :${mapping.containerPort}`);
  lines.push(`Replies are un-NATed by conntrack; traffic from 127.0.0.1 is masqueraded so the container can answer.`);
  out(lines.join('\n') + '\n');
  return Exit.Ok;
}
