// Capability args like libcni: the runtime's args (portMappings, ips, mac) built once, and the per-plugin request
// config (name and cniVersion injected, prevResult, runtimeConfig holding only the capabilities it declares true).

import type { PluginConf } from './conflist.ts';

export type CapabilityArgs = Record<string, unknown>;

/** A published port as the runner records it (hostIP '' means every address). */
export interface PublishedPort {
  hostIP: string;
  hostPort: number;
  containerPort: number;
  protocol: string;
}

/** The CNI portMappings capability arg (hostIP only when given). */
export function portMappingsArg(ports: readonly PublishedPort[]): Record<string, unknown>[] {
  return ports.map((p) => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol, ...(p.hostIP ? { hostIP: p.hostIP } : {}) }));
}

/** What a container asks of the chain: portMappings (-p), ips (--ip), mac (--mac); undefined when it asks nothing. */
export function capabilityArgsFor(c: { ports: readonly PublishedPort[]; requestedIp?: string; requestedMac?: string }): CapabilityArgs | undefined {
  const args: CapabilityArgs = {};
  if (c.ports.length) args.portMappings = portMappingsArg(c.ports);
  if (c.requestedIp) args.ips = [c.requestedIp];
  if (c.requestedMac) args.mac = c.requestedMac;
  return Object.keys(args).length ? args : undefined;
}

/** The capability args a plugin asked for (its `capabilities` entries set to true). */
export function runtimeConfigFor(plugin: PluginConf, capArgs: CapabilityArgs | undefined): Record<string, unknown> | undefined {
  if (!capArgs || !plugin.capabilities || typeof plugin.capabilities !== 'object') return undefined;
  const rc: Record<string, unknown> = {};
  for (const [cap, on] of Object.entries(plugin.capabilities)) if (on === true && cap in capArgs) rc[cap] = capArgs[cap];
  return Object.keys(rc).length ? rc : undefined;
}

export function buildPluginConfig(
  plugin: PluginConf,
  listName: string,
  cniVersion: string,
  opts: { prevResult?: unknown; capArgs?: CapabilityArgs; extra?: Record<string, unknown> } = {},
): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, name: listName, cniVersion };
  if (opts.prevResult !== undefined) conf.prevResult = opts.prevResult;
  const rc = runtimeConfigFor(plugin, opts.capArgs);
  if (rc) conf.runtimeConfig = { ...(typeof plugin.runtimeConfig === 'object' && plugin.runtimeConfig ? plugin.runtimeConfig : {}), ...rc };
  if (opts.extra) Object.assign(conf, opts.extra);
  return conf;
}
