// The resolver side of a container's attachments: every DNS network it is on (first or connected, at start and at
// `network connect`) gets its resolver; resolv.conf names one of them; a release or `disconnect` that leaves a
// network unused stops that network's resolver (manager.ts).

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ctx } from '../context.ts';
import { resolvConfText } from '../container/etc-files.ts';
import type { ContainerState, NetworkSettings } from '../container/store.ts';
import { dnsEnabled, findNetwork } from '../networks.ts';
import { joinersOf } from '../container/network/net-mode.ts';
import { ensureResolver, resolverPid, retireResolver } from './manager.ts';
import { endpointsOf, nameserversFor } from './records.ts';

export interface NetAttachment {
  network: string;
  settings?: NetworkSettings;
}

/** A container's attachments in resolv.conf's order of preference: its first network, then the connected ones. */
export function attachmentsIn(c: ContainerState, first: NetworkSettings | undefined = c.networkSettings): NetAttachment[] {
  return [{ network: c.network, settings: first }, ...(c.extraNetworks ?? [])];
}

function hasDns(ctx: Ctx, net: string): boolean {
  try {
    return dnsEnabled(findNetwork(ctx.paths, net));
  } catch {
    return false;
  }
}

/** Starts the resolver of each DNS network in `atts` that has none; warns (the container still starts) when one cannot. */
export async function ensureResolvers(ctx: Ctx, atts: readonly NetAttachment[]): Promise<void> {
  for (const a of atts) {
    const at = endpointsOf(a.settings);
    if (!at.gateways.length || !hasDns(ctx, a.network)) continue;
    if (!(await ensureResolver(ctx, a.network, at.gateways, at.cidrs))) {
      process.stderr.write(`tscni: warning: the resolver of network ${a.network} could not start (see ${ctx.paths.stateRoot}/dns/${a.network}.log): container names will not resolve there\n`);
    }
  }
}

/** resolv.conf's nameservers for these attachments: the first one whose resolver runs (empty: the host's). */
export function nameserversOf(ctx: Ctx, atts: readonly NetAttachment[]): string[] {
  return nameserversFor(atts, (net) => resolverPid(ctx.paths.stateRoot, net) !== undefined);
}

/**
 * Rewrites a running container's resolv.conf in place (the file is bind-mounted: same inode, the container sees it)
 * when `connect`/`disconnect` changed which resolver it should name, e.g. a container on the default network
 * connected to a user one; so too its joiners' copies. Forgives a container whose directory is gone.
 */
export function refreshResolvConf(ctx: Ctx, c: ContainerState): void {
  let host = '';
  try {
    host = readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    host = '';
  }
  const text = resolvConfText(host, c, nameserversOf(ctx, attachmentsIn(c)));
  // Containers run with --network container:<c> hold a copy of c's file (their own, for an rm -f of c): the same text.
  for (const dir of [ctx.containers.dir(c.id), ...joinersOf(ctx.containers.all(), c).map((j) => ctx.containers.dir(j.id))]) {
    try {
      const f = join(dir, 'resolv.conf');
      if (readFileSync(f, 'utf8') !== text) writeFileSync(f, text);
    } catch {
      // removed meanwhile
    }
  }
}

/** Stops the resolvers of `nets` that only `c` was using (the release of `c`, or its disconnect from them). */
export async function retireResolvers(ctx: Ctx, nets: readonly string[], c: Pick<ContainerState, 'id'>): Promise<void> {
  for (const net of new Set(nets)) await retireResolver(ctx, net, c.id).catch(() => undefined);
}
