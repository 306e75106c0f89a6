// `tscni port NAME [PRIVATE_PORT[/PROTO]]`: a container's published ports, as `docker port` prints them.

import { parseArgs } from './args/argv.ts';
import type { Ctx } from '../context.ts';
import { publishedOn } from '../container/network/ports.ts';
import type { PortMapping } from '../container/store.ts';
import { Exit, notFound, UsageError } from './errors.ts';
import { printHelpIfAsked } from './help.ts';

type Out = (s: string) => void;

const hostSide = (m: PortMapping) => (m.hostIP.includes(':') ? `[${m.hostIP}]:${m.hostPort}` : `${m.hostIP || '0.0.0.0'}:${m.hostPort}`);

/** docker port's lines: `80/tcp -> 0.0.0.0:32768`, or only the host side when one private port is asked for. */
export function portLines(ports: readonly PortMapping[], only?: { port: number; protocol: string }): string[] {
  const sorted = [...ports].sort((a, b) => a.containerPort - b.containerPort || a.protocol.localeCompare(b.protocol) || a.hostPort - b.hostPort);
  if (only) return sorted.filter((m) => m.containerPort === only.port && m.protocol === only.protocol).map(hostSide);
  return sorted.map((m) => `${m.containerPort}/${m.protocol} -> ${hostSide(m)}`);
}

export async function port(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, {}, 'port');
  if (printHelpIfAsked('port', p, out)) return Exit.Ok;
  const [ref, spec, ...extra] = p.positionals;
  if (!ref || extra.length) throw new UsageError('port: expected NAME [PRIVATE_PORT[/PROTO]]');
  const c = ctx.containers.resolve(ref);
  let only: { port: number; protocol: string } | undefined;
  if (spec) {
    const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(spec);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new UsageError(`invalid port ${JSON.stringify(spec)}: expected PORT[/tcp|udp|sctp]`);
    only = { port: Number(m[1]), protocol: m[2] ?? 'tcp' };
  }
  const lines = portLines(publishedOn(c.ports, !!c.networkSettings?.GlobalIPv6Address), only);
  if (only && lines.length === 0) throw notFound(`no public port '${only.port}/${only.protocol}' published for ${ref}`);
  for (const l of lines) out(l + '\n');
  return Exit.Ok;
}
