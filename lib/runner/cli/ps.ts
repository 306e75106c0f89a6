// `tscni ps`: the container list (table, --json, -q) with docker's status words.

import { parseArgs, bool } from './args/argv.ts';
import type { ContainerState } from '../container/store.ts';
import { refreshState } from '../container/stop.ts';
import type { Ctx } from '../context.ts';
import { Exit } from './errors.ts';
import { printHelpIfAsked } from './help.ts';
import { ago, humanDuration, table } from './args/table.ts';

type Out = (s: string) => void;

export function statusText(c: ContainerState, now = Date.now()): string {
  if (c.status === 'running') return `Up ${humanDuration(now - Date.parse(c.startedAt ?? c.created))}`;
  if (c.status === 'created') return 'Created';
  return `Exited (${c.exitCode ?? 255}) ${ago(c.finishedAt, now)}`;
}

export function portsText(c: Pick<ContainerState, 'ports'>): string {
  return c.ports.map((p) => `${p.hostIP.includes(':') ? `[${p.hostIP}]` : p.hostIP || '0.0.0.0'}:${p.hostPort}->${p.containerPort}/${p.protocol}`).join(', ');
}

export async function ps(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, { bools: ['all', 'json', 'quiet'], aliases: { a: 'all', q: 'quiet' } }, 'ps');
  if (printHelpIfAsked('ps', p, out)) return Exit.Ok;
  const all = await Promise.all(ctx.containers.all().map((c) => refreshState(ctx, c)));
  const shown = all.filter((c) => bool(p, 'all') || c.status === 'running').reverse();
  if (bool(p, 'json')) {
    out(JSON.stringify(shown.map((c) => ({ Id: c.id, Name: c.name, Image: c.image, Command: c.cmd, Created: c.created, State: c.status, Status: statusText(c), ExitCode: c.exitCode ?? null, Ports: c.ports, IPAddress: c.status === 'running' ? c.networkSettings?.IPAddress ?? '' : '', Network: c.network })), null, 2) + '\n');
  } else if (bool(p, 'quiet')) {
    for (const c of shown) out(c.id.slice(0, 12) + '\n');
  } else {
    out(table(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], shown.map((c) => {
      const cmd = c.cmd.join(' ');
      return [c.id.slice(0, 12), c.image, JSON.stringify(cmd.length > 20 ? cmd.slice(0, 19) + '…' : cmd), ago(c.created), statusText(c), portsText(c), c.name];
    })));
  }
  return Exit.Ok;
}
