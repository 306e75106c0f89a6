// IPAM delegation: exec the plugin named in ipam.type through CNI_PATH with the same env and the full config.

import { execPlugin, findPlugin } from '../../lib/cni/exec.ts';
import { parseResult, type Result } from '../../lib/cni/result.ts';
import { CniError, Code } from '../../lib/cni/errors.ts';
import type { CallContext } from '../../lib/cni/skel.ts';

function envFor(ctx: CallContext, command: string): Record<string, string> {
  const e: Record<string, string> = { CNI_COMMAND: command, CNI_PATH: ctx.env.path.join(':') };
  if (ctx.env.containerId) e.CNI_CONTAINERID = ctx.env.containerId;
  if (ctx.env.netns) e.CNI_NETNS = ctx.env.netns;
  if (ctx.env.ifname) e.CNI_IFNAME = ctx.env.ifname;
  if (ctx.env.args) e.CNI_ARGS = ctx.env.args;
  return e;
}

/** Runs `command` on the IPAM plugin `type`; its stderr passes through to ours. */
export async function execIpam(ctx: CallContext, type: string, command: string, stdin: string = ctx.stdin.toString()): Promise<string> {
  return execPlugin(findPlugin(type, ctx.env.path), envFor(ctx, command), stdin);
}

export async function ipamAdd(ctx: CallContext, type: string): Promise<Result> {
  const out = await execIpam(ctx, type, 'ADD');
  let raw: unknown;
  try {
    raw = JSON.parse(out);
  } catch (err) {
    throw new CniError(Code.Decode, `IPAM plugin ${type} printed no JSON result: ${(err as Error).message}`);
  }
  const result = parseResult(raw, `IPAM ${type} result`);
  if (!result.ips?.length) throw new CniError(Code.Internal, `IPAM plugin ${type} returned no IP configuration`);
  return result;
}
