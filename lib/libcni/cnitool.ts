// cnitool-compatible verbs: tscni add|del|check|status|gc <network> <netns-path>, configured by the environment.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { addNetworkList, cachedConfList, checkNetworkList, delNetworkList, gcNetworkList, statusNetworkList, type ChainOptions, type GcAttachment, type RuntimeConf } from './chain.ts';
import { loadConfList, type ConfList } from './conflist.ts';
import { listCache } from './result-cache.ts';
import { resolvePaths } from '../runner/paths.ts';
import { RunnerError, UsageError } from '../runner/cli/errors.ts';
import { parseArgs, bool, str } from '../runner/cli/args/argv.ts';
import { HELP } from '../runner/cli/help.ts';


/** cnitool's container id: "cnitool-" and the first 10 bytes of sha512(absolute netns path) in hex. */
export function cnitoolContainerId(netnsPath: string): string {
  return `cnitool-${createHash('sha512').update(resolve(netnsPath)).digest('hex').slice(0, 20)}`;
}

export function parseCniArgsEnv(raw: string | undefined): [string, string][] | undefined {
  if (!raw) return undefined;
  return raw.split(';').map((pair) => {
    const kv = pair.split('=');
    if (kv.length !== 2 || !kv[0] || !kv[1]) throw new UsageError(`invalid CNI_ARGS pair ${JSON.stringify(pair)}`);
    return [kv[0], kv[1]];
  });
}

export function parseCapArgs(raw: string | undefined): Record<string, unknown> | undefined {
  if (!raw) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (err) {
    throw new UsageError(`invalid CAP_ARGS: ${(err as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new UsageError('invalid CAP_ARGS: must be a JSON object');
  return v as Record<string, unknown>;
}

export async function cnitoolCommand(verb: string, argv: string[], out: (s: string) => void): Promise<number> {
  const p = parseArgs(argv, { bools: ['dry-run'], values: ['id'] }, verb);
  if (bool(p, 'help')) {
    out(HELP.cnitool + '\n');
    return 0;
  }
  if (p.positionals.length !== 2) throw new UsageError(`${verb}: expected <network> <netns-path>\n${HELP.cnitool}`);
  const [network, netnsArg] = p.positionals;
  const paths = resolvePaths();
  const netns = resolve(netnsArg);
  const dryRun = bool(p, 'dry-run');
  const opts: ChainOptions = {
    cniPath: paths.cniPath,
    cacheDir: paths.cacheDir,
    selfDir: paths.selfDir,
    dryRun,
    onPlan: (e) => out(JSON.stringify(e, null, 2) + '\n'),
  };
  const rt: RuntimeConf = {
    containerId: str(p, 'id') || process.env.CNI_CONTAINERID || cnitoolContainerId(netns),
    netns,
    ifName: process.env.CNI_IFNAME ?? 'eth0',
    cniArgs: parseCniArgsEnv(process.env.CNI_ARGS),
    capabilityArgs: parseCapArgs(process.env.CAP_ARGS),
  };
  let list: ConfList;
  try {
    list = loadConfList(paths.netconfDir, network);
  } catch (err) {
    // A DEL still works after the config file is gone: libcni runtimes keep the config in the cache.
    const cached = verb === 'del' ? cachedConfList(paths.cacheDir, network, rt.containerId, rt.ifName) : undefined;
    if (!cached) throw err;
    list = cached;
  }
  switch (verb) {
    case 'add': {
      const result = await addNetworkList(list, rt, opts);
      if (result) out(JSON.stringify(result, null, 4) + '\n');
      return 0;
    }
    case 'del':
      await delNetworkList(list, rt, opts);
      return 0;
    case 'check':
      await checkNetworkList(list, rt, opts);
      return 0;
    case 'status':
      await statusNetworkList(list, opts);
      return 0;
    case 'gc': {
      const valid: GcAttachment[] = listCache(paths.cacheDir)
        .filter((a) => a.networkName === list.name && (!a.netns || existsSync(a.netns)))
        .map((a) => ({ containerID: a.containerId, ifname: a.ifName }));
      await gcNetworkList(list, valid, opts);
      return 0;
    }
  }
  throw new RunnerError(`unknown verb ${verb}`);
}
