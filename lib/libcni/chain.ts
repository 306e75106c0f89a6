// lib/libcni: tscni's CNI client, as libcni does it (used by the cnitool verbs and by the runner's containers).
// It owns loading network lists (conflist.ts), capability args (capability-args.ts), libcni's result cache
// (result-cache.ts), the dry-run plan (dry-run.ts), the cnitool verbs (cnitool.ts) and, here, running a list:
// ADD in order threading prevResult, DEL in reverse with the cached result, CHECK with the cached result, STATUS,
// and GC with valid attachments (stale ones get a DEL first).

import { dirname } from 'node:path';
import { CniError, Code, toCniError } from '../cni/errors.ts';
import { execPlugin, findPlugin } from '../cni/exec.ts';
import { validateContainerId, validateIfname } from '../cni/env.ts';
import { formatResult, parseResult } from '../cni/result.ts';
import { atLeast } from '../cni/version.ts';
import { buildPluginConfig, type CapabilityArgs } from './capability-args.ts';
import { confListFromBytes, type ConfList, type PluginConf } from './conflist.ts';
import { plannedResult } from './dry-run.ts';
import { deleteCache, listCache, readCache, writeCache } from './result-cache.ts';
import { trace } from '../runner/trace.ts';

export interface RuntimeConf {
  containerId: string;
  netns: string;
  ifName: string;
  cniArgs?: [string, string][];
  capabilityArgs?: CapabilityArgs;
}

export interface ChainOptions {
  cniPath: string[];
  cacheDir: string;
  /** Plugins under this directory are tscni's: in dry-run they are exec'd with TSCNI_DRY_RUN=1 to print their plan. */
  selfDir?: string;
  dryRun?: boolean;
  /** Keep plugins' stderr (diagnostics) off the terminal: container commands show a plugin's words only on failure. */
  quietPlugins?: boolean;
  /** Receives each plugin's dry-run plan (or a description for a third-party plugin). */
  onPlan?: (entry: Record<string, unknown>) => void;
}

/** libcni's description of a plugin in errors: type="bridge" name="mynet". */
function describe(plugin: PluginConf, list: ConfList): string {
  return `type=${JSON.stringify(plugin.type)} name=${JSON.stringify(list.name)}`;
}

function wrap(err: unknown, plugin: PluginConf, list: ConfList, verb: string): CniError {
  const e = toCniError(err);
  return new CniError(e.code, `plugin ${describe(plugin, list)} failed (${verb}): ${e.message}`, e.details, { cause: err });
}

function envFor(command: string, rt: RuntimeConf | undefined, opts: ChainOptions): Record<string, string> {
  const env: Record<string, string> = { CNI_COMMAND: command, CNI_PATH: opts.cniPath.join(':') };
  if (rt) {
    env.CNI_CONTAINERID = rt.containerId;
    if (rt.netns) env.CNI_NETNS = rt.netns;
    env.CNI_IFNAME = rt.ifName;
    if (rt.cniArgs?.length) env.CNI_ARGS = rt.cniArgs.map(([k, v]) => `${k}=${v}`).join(';');
  }
  return env;
}

async function invoke(plugin: PluginConf, command: string, conf: Record<string, unknown>, rt: RuntimeConf | undefined, opts: ChainOptions): Promise<string> {
  const path = findPlugin(plugin.type, opts.cniPath);
  const env = envFor(command, rt, opts);
  if (opts.dryRun) {
    const ours = opts.selfDir !== undefined && dirname(path) === opts.selfDir;
    if (!ours) {
      opts.onPlan?.({ plugin: plugin.type, path, command, note: 'third-party plugin: not executed in dry-run', env, stdin: conf });
      return '';
    }
    const out = await execPlugin(path, { ...env, TSCNI_DRY_RUN: '1' }, JSON.stringify(conf));
    let plan: unknown = out.trim();
    try {
      plan = JSON.parse(out);
    } catch {
      // keep the text
    }
    opts.onPlan?.({ plugin: plugin.type, path, command, plan });
    return '';
  }
  const out = await execPlugin(path, env, JSON.stringify(conf), { passStderr: !opts.quietPlugins });
  trace(`${command} ${plugin.type}`);
  return out;
}

function validateRt(rt: RuntimeConf): void {
  validateContainerId(rt.containerId);
  validateIfname(rt.ifName);
}

/** ADD: every plugin in order, each given the previous result; the final result is cached. */
export async function addNetworkList(list: ConfList, rt: RuntimeConf, opts: ChainOptions): Promise<Record<string, unknown> | undefined> {
  validateRt(rt);
  let prev: Record<string, unknown> | undefined;
  for (const plugin of list.plugins) {
    const conf = buildPluginConfig(plugin, list.name, list.cniVersion, { prevResult: prev, capArgs: rt.capabilityArgs });
    let out: string;
    try {
      out = await invoke(plugin, 'ADD', conf, rt, opts);
    } catch (err) {
      throw wrap(err, plugin, list, 'add');
    }
    if (opts.dryRun) {
      // Later plugins plan against the result the chain would most likely produce (the range's first address).
      prev = plannedResult(list, rt);
      continue;
    }
    try {
      prev = JSON.parse(out);
    } catch {
      throw wrap(new CniError(Code.Decode, `result is not JSON: ${out.slice(0, 200)}`), plugin, list, 'add');
    }
  }
  if (opts.dryRun) return undefined;
  writeCache(opts.cacheDir, {
    containerId: rt.containerId,
    config: list.bytes,
    ifName: rt.ifName,
    networkName: list.name,
    netns: rt.netns,
    cniArgs: rt.cniArgs,
    capabilityArgs: rt.capabilityArgs,
    result: prev,
  });
  return prev;
}

/** The cached result converted to the list's version (what DEL and CHECK pass as prevResult). */
export function cachedResult(list: ConfList, rt: RuntimeConf, cacheDir: string): Record<string, unknown> | undefined {
  const cached = readCache(cacheDir, { networkName: list.name, containerId: rt.containerId, ifName: rt.ifName });
  if (!cached?.result) return undefined;
  try {
    return formatResult(parseResult(cached.result, 'cached result'), list.cniVersion);
  } catch {
    return undefined;
  }
}

/** DEL: every plugin in reverse, each given the cached result (spec >= 0.4.0); the cache entry goes last. */
export async function delNetworkList(list: ConfList, rt: RuntimeConf, opts: ChainOptions): Promise<void> {
  validateRt(rt);
  const prev = atLeast(list.cniVersion, '0.4.0') ? cachedResult(list, rt, opts.cacheDir) : undefined;
  for (let i = list.plugins.length - 1; i >= 0; i--) {
    const plugin = list.plugins[i];
    const conf = buildPluginConfig(plugin, list.name, list.cniVersion, { prevResult: prev, capArgs: rt.capabilityArgs });
    try {
      await invoke(plugin, 'DEL', conf, rt, opts);
    } catch (err) {
      throw wrap(err, plugin, list, 'delete');
    }
  }
  if (!opts.dryRun) deleteCache(opts.cacheDir, { networkName: list.name, containerId: rt.containerId, ifName: rt.ifName });
}

export async function checkNetworkList(list: ConfList, rt: RuntimeConf, opts: ChainOptions): Promise<void> {
  validateRt(rt);
  if (!atLeast(list.cniVersion, '0.4.0')) {
    throw new CniError(Code.IncompatibleVersion, `configuration version ${JSON.stringify(list.cniVersion)} does not support the CHECK command`);
  }
  if (list.disableCheck) return;
  const prev = cachedResult(list, rt, opts.cacheDir);
  for (const plugin of list.plugins) {
    const conf = buildPluginConfig(plugin, list.name, list.cniVersion, { prevResult: prev, capArgs: rt.capabilityArgs });
    try {
      await invoke(plugin, 'CHECK', conf, rt, opts);
    } catch (err) {
      throw wrap(err, plugin, list, 'check');
    }
  }
}

/** STATUS: each plugin in order; the first failure is the answer (a clean code). Below 1.1.0 there is nothing to ask. */
export async function statusNetworkList(list: ConfList, opts: ChainOptions): Promise<void> {
  if (!atLeast(list.cniVersion, '1.1.0')) return;
  for (const plugin of list.plugins) {
    const conf = buildPluginConfig(plugin, list.name, list.cniVersion);
    try {
      await invoke(plugin, 'STATUS', conf, undefined, opts);
    } catch (err) {
      throw wrap(err, plugin, list, 'status');
    }
  }
}

export interface GcAttachment {
  containerID: string;
  ifname: string;
}

/**
 * GC as libcni's GCNetworkList: a DEL for every cached attachment of this network that is not valid, then GC
 * to each plugin (>= 1.1.0, unless disableGC) with `cni.dev/valid-attachments`. Keeps going and reports all failures.
 */
export async function gcNetworkList(list: ConfList, valid: GcAttachment[], opts: ChainOptions): Promise<void> {
  if (list.disableGC) return;
  const errors: string[] = [];
  const isValid = new Set(valid.map((a) => `${a.containerID}\u0000${a.ifname}`));
  for (const a of listCache(opts.cacheDir)) {
    if (a.networkName !== list.name || isValid.has(`${a.containerId}\u0000${a.ifName}`)) continue;
    const rt: RuntimeConf = { containerId: a.containerId, netns: a.netns ?? '', ifName: a.ifName, cniArgs: a.cniArgs, capabilityArgs: a.capabilityArgs };
    try {
      await delNetworkList(list, rt, opts);
    } catch (err) {
      errors.push(`failed to delete stale attachment ${a.containerId} ${a.ifName}: ${(err as Error).message}`);
    }
  }
  if (atLeast(list.cniVersion, '1.1.0')) {
    for (const plugin of list.plugins) {
      const conf = buildPluginConfig(plugin, list.name, list.cniVersion, { extra: { 'cni.dev/valid-attachments': valid, 'cni.dev/attachments': valid } });
      try {
        await invoke(plugin, 'GC', conf, undefined, opts);
      } catch (err) {
        errors.push(`failed to GC plugin ${plugin.type}: ${toCniError(err).message}`);
      }
    }
  }
  if (errors.length) throw new CniError(Code.Internal, errors.join('; '));
}

/** The list an attachment was added with, read back from the cache (used when the config file is gone). */
export function cachedConfList(cacheDir: string, networkName: string, containerId: string, ifName: string): ConfList | undefined {
  const a = readCache(cacheDir, { networkName, containerId, ifName });
  if (!a || a.config.length === 0) return undefined;
  try {
    return confListFromBytes(a.config, `cached config of ${networkName}-${containerId}-${ifName}`);
  } catch {
    return undefined;
  }
}
