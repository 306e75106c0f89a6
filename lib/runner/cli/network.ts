// Network commands: network ls|inspect|create|rm over the conflists in NETCONFPATH.

import { parseArgs, bool, list, str } from './args/argv.ts';
import { forgetBridge, policyOf } from '../isolation.ts';
import type { Ctx } from '../context.ts';
import { Exit, RunnerError, UsageError } from './errors.ts';
import { createNetwork, findNetwork, listNetworks, removeNetwork } from '../networks.ts';
import { HELP } from './help.ts';
import { table } from './args/table.ts';

type Out = (s: string) => void;


export async function network(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'ls': {
      const p = parseArgs(rest, { bools: ['json'] }, 'network ls');
      const nets = listNetworks(ctx.paths);
      if (bool(p, 'json')) out(JSON.stringify(nets, null, 2) + '\n');
      else out(table(['NAME', 'BRIDGE', 'SUBNETS', 'PLUGINS', 'FILE'], nets.map((n) => [n.name, n.bridge ?? '', n.subnets.join(','), n.plugins.join(','), n.file])));
      return Exit.Ok;
    }
    case 'inspect': {
      const p = parseArgs(rest, {}, 'network inspect');
      if (p.positionals.length !== 1) throw new UsageError('network inspect: a network name is required');
      const l = findNetwork(ctx.paths, p.positionals[0]);
      const users = ctx.containers.all().filter((c) => c.status === 'running');
      const on = users.flatMap((c) => {
        const s = c.network === l.name ? c.networkSettings : c.extraNetworks?.find((e) => e.network === l.name)?.settings;
        return s ? [[c.id, { Name: c.name, IPAddress: s.IPAddress, MacAddress: s.MacAddress }]] : [];
      });
      const overlay = (await import('../overlay/network.ts')).inspectOverlay(ctx, l);
      out(JSON.stringify({ Name: l.name, File: l.file, CniVersion: l.cniVersion, Driver: overlay ? 'overlay' : 'bridge', Config: JSON.parse(l.bytes.toString()), Containers: Object.fromEntries(on), ...(overlay ? { Overlay: overlay } : {}) }, null, 2) + '\n');
      return Exit.Ok;
    }
    case 'create': {
      const p = parseArgs(rest, { bools: ['no-masquerade', 'internal', 'ipv6'], values: ['bridge', 'driver'], multi: ['opt', 'peer', 'subnet', 'gateway'], aliases: { o: 'opt', d: 'driver' } }, 'network create');
      const subnets = list(p, 'subnet');
      if (p.positionals.length !== 1 || !subnets.length) throw new UsageError('network create: NAME and --subnet CIDR are required');
      // docker's --ipv6 asks for an IPv6 subnet; tscni has no pool to take one from, so it must be given.
      if (bool(p, 'ipv6') && !subnets.some((x) => x.includes(':'))) throw new UsageError('network create --ipv6: give the IPv6 subnet too (--subnet fd00:43::/64; tscni has no pool to pick one from)');
      const driver = str(p, 'driver') ?? 'bridge';
      if (driver !== 'bridge' && driver !== 'overlay') throw new UsageError(`invalid --driver ${JSON.stringify(driver)}: bridge or overlay`);
      if (driver === 'overlay') {
        for (const f of ['no-masquerade', 'internal'] as const) if (bool(p, f)) throw new UsageError(`network create --driver overlay: --${f} does not apply (traffic to the peers is never masqueraded)`);
        const { createOverlay } = await import('../overlay/network.ts');
        await createOverlay(ctx, { name: p.positionals[0], subnets, gateways: list(p, 'gateway'), bridge: str(p, 'bridge'), peers: list(p, 'peer'), opts: list(p, 'opt') }, out);
        return Exit.Ok;
      }
      if (list(p, 'peer').length) throw new UsageError('network create: --peer needs --driver overlay');
      const icc = parseOpts(list(p, 'opt'));
      const file = createNetwork(ctx.paths, { name: p.positionals[0], subnets, gateways: list(p, 'gateway'), bridge: str(p, 'bridge'), ipMasq: !bool(p, 'no-masquerade'), internal: bool(p, 'internal'), icc });
      out(`${p.positionals[0]} (${file})\n`);
      return Exit.Ok;
    }
    case 'rm': {
      const p = parseArgs(rest, {}, 'network rm');
      if (p.positionals.length === 0) throw new UsageError('network rm: a network name is required');
      for (const n of p.positionals) {
        const bridge = (() => {
          try {
            return policyOf(findNetwork(ctx.paths, n))?.bridge;
          } catch {
            return undefined;
          }
        })();
        const users = ctx.containers.all().filter((c) => c.network === n || (c.extraNetworks ?? []).some((e) => e.network === n)).map((c) => c.name);
        const { overlayOf, removeOverlay } = await import('../overlay/network.ts');
        const overlay = (() => {
          try {
            return overlayOf(findNetwork(ctx.paths, n));
          } catch {
            return undefined;
          }
        })();
        if (overlay && process.getuid?.() !== 0) throw new RunnerError(`network rm ${n}: an overlay network needs root (its agent's routes and VXLAN device are removed with it)`);
        removeNetwork(ctx.paths, n, users);
        if (overlay) await removeOverlay(ctx, n);
        if (bridge && process.getuid?.() === 0) await forgetBridge(bridge).catch(() => undefined);
        out(n + '\n');
      }
      return Exit.Ok;
    }
    case 'connect':
      return (await import('./network-connect.ts')).connect(ctx, rest, out);
    case 'disconnect':
      return (await import('./network-connect.ts')).disconnect(ctx, rest, out);
    default:
      out(HELP.network + '\n');
      return sub === undefined || sub === '--help' || sub === '-h' ? Exit.Ok : Exit.Usage;
  }
}

/** --opt K=V: only inter-container communication is an option today (docker's name or the short one). */
export function parseOpts(opts: string[]): boolean | undefined {
  let icc: boolean | undefined;
  for (const o of opts) {
    const m = /^(icc|com\.docker\.network\.bridge\.enable_icc)=(true|false)$/.exec(o);
    if (!m) throw new UsageError(`invalid --opt ${JSON.stringify(o)}: supported is icc=true|false`);
    icc = m[2] === 'true';
  }
  return icc;
}
