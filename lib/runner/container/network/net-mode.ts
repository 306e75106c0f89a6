// A container's network mode, as docker's HostConfig.NetworkMode spells it: a CNI network name (a bridge network),
// `host` (the host's netns: no veth, no NAT), `none` (its own netns with only `lo`, brought up by the loopback
// plugin) or `container:<id>` (another container's netns). Pure: parsing, validation and what each mode owns.

import { conflict, notFound, UsageError } from '../../cli/errors.ts';
import type { ConfList } from '../../../libcni/conflist.ts';
import type { ContainerState } from '../store.ts';

export type NetMode = { kind: 'network'; name: string } | { kind: 'host' } | { kind: 'none' } | { kind: 'container'; ref: string };

/** Names a CNI network cannot take: they are modes. */
export const RESERVED_NETWORK_NAMES = ['host', 'none'];

export function parseNetMode(value: string): NetMode {
  if (value === 'host') return { kind: 'host' };
  if (value === 'none') return { kind: 'none' };
  if (value.startsWith('container:')) {
    const ref = value.slice('container:'.length);
    if (!ref) throw new UsageError('invalid --network container: a container name or id is required (container:NAME|ID)');
    return { kind: 'container', ref };
  }
  if (value.includes(':')) throw new UsageError(`invalid --network ${JSON.stringify(value)}: expected a network name, host, none or container:NAME|ID`);
  return { kind: 'network', name: value };
}

/** Flags that only make sense with an interface of the container's own (docker's "conflicting options"). */
export function checkModeFlags(mode: NetMode, f: { ports: number; ip?: string; mac?: string; hostname?: string; aliases: number }): void {
  if (mode.kind === 'network') return;
  const m = mode.kind === 'container' ? 'container' : mode.kind;
  if (f.ports && mode.kind !== 'none') {
    throw new UsageError(`conflicting options: port publishing and the ${m} network mode (${m === 'host' ? 'a host-network container listens on the host ports itself' : 'publish the ports on the joined container'})`);
  }
  if (f.ports) throw new UsageError('conflicting options: port publishing and the none network mode (it has no interface to publish to)');
  if (f.ip || f.mac) throw new UsageError(`conflicting options: --ip/--mac and the ${m} network mode`);
  if (f.aliases) throw new UsageError(`conflicting options: --network-alias and the ${m} network mode (aliases need a user network)`);
  if (mode.kind === 'container' && f.hostname) throw new UsageError('conflicting options: --hostname and the container network mode (the joined container\'s host name is used)');
}

/** The container a `container:` mode joins: it must exist and (for run; create checks at start) run. */
export function joinedContainer(ref: string, resolve: (r: string) => ContainerState, mustRun = true): ContainerState {
  let target: ContainerState;
  try {
    target = resolve(ref);
  } catch {
    throw notFound(`cannot join the network of container ${ref}: no such container`);
  }
  if (mustRun && target.status !== 'running') throw conflict(`cannot join the network of container ${ref}: it is ${target.status}, not running`);
  if (modeOf(target).kind === 'container') {
    // docker resolves the chain to the netns owner; one level keeps it obvious who owns the netns.
    throw conflict(`cannot join the network of container ${ref}: it shares the netns of ${target.network.slice('container:'.length, 'container:'.length + 12)} itself; join that one`);
  }
  return target;
}

export function modeOf(c: Pick<ContainerState, 'network'>): NetMode {
  return parseNetMode(c.network);
}

/** Whether the container has a netns of its own (created at start, deleted at release). */
export function ownsNetns(c: Pick<ContainerState, 'network'>): boolean {
  const k = modeOf(c).kind;
  return k === 'network' || k === 'none';
}

/** The interface the chain ADDs for the container (the none mode's chain works on `lo`). */
export function chainIfName(c: Pick<ContainerState, 'network'>): string {
  return modeOf(c).kind === 'none' ? 'lo' : 'eth0';
}

/** The none mode's chain: tscni's loopback plugin only. Cached like any list, so DEL uses what ADD used. */
export function noneConfList(): ConfList {
  const raw = { cniVersion: '1.1.0', name: 'none', plugins: [{ type: 'loopback' }] };
  return { name: 'none', cniVersion: '1.1.0', disableCheck: false, disableGC: false, plugins: raw.plugins, bytes: Buffer.from(JSON.stringify(raw)), file: '' };
}

/** Running containers that share `c`'s netns (they lose their network when it goes). */
export function joinersOf(all: ContainerState[], c: Pick<ContainerState, 'id'>): ContainerState[] {
  return all.filter((o) => o.network === `container:${c.id}` && o.status !== 'exited');
}
