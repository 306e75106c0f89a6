// IPAM delegation: exec the plugin named in ipam.type through CNI_PATH with the same env and the full config, or,
// when that plugin is tscni's own host-local installed next to this executable, call its verbs in-process (same
// store, same lock, same answers; saves a process start per call).

import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execPlugin, findPlugin } from '../../lib/cni/exec.ts';
import { parseResult, type Result } from '../../lib/cni/result.ts';
import { CniError, Code } from '../../lib/cni/errors.ts';
import type { CallContext } from '../../lib/cni/skel.ts';

type Verb = 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC';

function envFor(ctx: CallContext, command: string): Record<string, string> {
  const e: Record<string, string> = { CNI_COMMAND: command, CNI_PATH: ctx.env.path.join(':') };
  if (ctx.env.containerId) e.CNI_CONTAINERID = ctx.env.containerId;
  if (ctx.env.netns) e.CNI_NETNS = ctx.env.netns;
  if (ctx.env.ifname) e.CNI_IFNAME = ctx.env.ifname;
  if (ctx.env.args) e.CNI_ARGS = ctx.env.args;
  return e;
}

const real = (p: string) => {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
};

/**
 * This executable's own file. The build defines import.meta.url as the bundle's __filename, which node has already
 * resolved through symlinks (so under a `tscni install` prefix, where /opt/cni/bin/bridge links to <prefix>/bridge,
 * it is the real bundle). Run from source it is this .ts file, which has no host-local beside it: IPAM is exec'd.
 */
const selfPath = (): string => fileURLToPath(import.meta.url);

/**
 * True when CNI_PATH resolves `type` to tscni's own host-local: the found executable is, after resolving symlinks, the
 * `host-local` built into the same directory as this bridge (the build writes every plugin there). Another plugin
 * named host-local (the reference one, a wrapper script) lives elsewhere and is exec'd as CNI says.
 */
export function isOwnHostLocal(type: string, path: readonly string[], self: string = selfPath()): boolean {
  if (type !== 'host-local') return false;
  const found = real(findPlugin(type, path));
  return found !== undefined && found === real(join(dirname(self), 'host-local'));
}

const inProcess = () => import('../../lib/ipam/verbs.ts');

/** Runs `command` on the IPAM plugin `type`; an exec'd plugin's stderr passes through to ours. */
export async function execIpam(ctx: CallContext, type: string, command: Verb): Promise<string | Result | void> {
  if (isOwnHostLocal(type, ctx.env.path)) {
    const hl = await inProcess();
    const env = { containerId: ctx.env.containerId, ifname: ctx.env.ifname, args: ctx.env.args };
    switch (command) {
      case 'ADD': return hl.ipamAdd(ctx.conf, ctx.version, env);
      case 'DEL': return hl.ipamDel(ctx.conf, env);
      case 'CHECK': return hl.ipamCheck(ctx.conf, ctx.version, env, ctx.prevResult);
      case 'STATUS': return hl.ipamStatus(ctx.conf, ctx.version);
      case 'GC': return hl.ipamGc(ctx.conf);
    }
  }
  return execPlugin(findPlugin(type, ctx.env.path), envFor(ctx, command), ctx.stdin.toString());
}

export async function ipamAdd(ctx: CallContext, type: string): Promise<Result> {
  const out = await execIpam(ctx, type, 'ADD');
  let result: Result;
  if (typeof out === 'string') {
    let raw: unknown;
    try {
      raw = JSON.parse(out);
    } catch (err) {
      throw new CniError(Code.Decode, `IPAM plugin ${type} printed no JSON result: ${(err as Error).message}`);
    }
    result = parseResult(raw, `IPAM ${type} result`);
  } else {
    result = out || {};
  }
  if (!result.ips?.length) throw new CniError(Code.Internal, `IPAM plugin ${type} returned no IP configuration`);
  return result;
}

/** The addresses our own host-local would lease now (dry-run), or [] when IPAM is another plugin. */
export async function plannedAddrs(ctx: CallContext, type: string): Promise<string[]> {
  if (!isOwnHostLocal(type, ctx.env.path)) return [];
  const hl = await inProcess();
  const plan = (await hl.ipamPlan(ctx.conf, ctx.version, { containerId: ctx.env.containerId, ifname: ctx.env.ifname, args: ctx.env.args }, 'ADD')) as { lease?: { address: string }[] };
  return (plan.lease ?? []).map((l) => l.address);
}
