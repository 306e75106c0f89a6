// Builds the per-plugin request config like libcni: inject name and cniVersion, prevResult, and runtimeConfig
// holding only the capability args the plugin declares true.

import type { PluginConf } from './conflist.ts';

export type CapabilityArgs = Record<string, unknown>;

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
