// `tscni inspect`: docker inspect's JSON for containers (State, Config, HostConfig, NetworkSettings).

import { parseArgs } from './args/argv.ts';
import { publishedOn } from '../container/network/ports.ts';
import type { ContainerState, PortMapping } from '../container/store.ts';
import { refreshState } from '../container/stop.ts';
import type { Ctx } from '../context.ts';
import { Exit, RunnerError, UsageError } from './errors.ts';
import { printHelpIfAsked } from './help.ts';
import { modeOf } from '../container/network/net-mode.ts';

type Out = (s: string) => void;

export function inspectJson(c: ContainerState): Record<string, unknown> {
  const byPort = (list: readonly PortMapping[]) => {
    const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const p of list) (out[`${p.containerPort}/${p.protocol}`] ??= []).push({ HostIp: p.hostIP || '0.0.0.0', HostPort: String(p.hostPort) });
    return out;
  };
  const ports = byPort(c.ports);
  const ns = c.status === 'running' ? c.networkSettings : undefined;
  const mode = modeOf(c).kind;
  const sandbox = mode === 'host' ? '' : `/var/run/netns/${c.netnsName}`;
  const entry = (s: typeof ns) => ({ IPAddress: s?.IPAddress ?? '', IPPrefixLen: s?.IPPrefixLen ?? 0, Gateway: s?.Gateway ?? '', MacAddress: s?.MacAddress ?? '' });
  const nets: Record<string, unknown> = mode === 'container' ? {} : { [c.network]: entry(ns) };
  for (const e of c.extraNetworks ?? []) nets[e.network] = { ...entry(c.status === 'running' ? e.settings : undefined), InterfaceName: e.ifName, ...(e.aliases ? { Aliases: e.aliases } : {}) };
  return {
    Id: c.id,
    Name: `/${c.name}`,
    Created: c.created,
    Image: c.image,
    RestartCount: c.restartCount ?? 0,
    Mounts: (c.mounts ?? []).map((m) => ({ Type: m.type, Name: m.type === 'volume' ? m.source : undefined, Source: m.type === 'bind' ? m.source : '', Destination: m.target, RW: !m.readonly })),
    State: {
      Status: c.status,
      Running: c.status === 'running',
      Pid: c.pid ?? 0,
      ExitCode: c.exitCode ?? 0,
      Error: c.error ?? '',
      StartedAt: c.startedAt ?? '',
      FinishedAt: c.finishedAt ?? '',
    },
    Config: {
      Hostname: c.hostname, Env: c.env, Cmd: c.cmd, Image: c.image, WorkingDir: c.workdir, User: c.user ? `${c.user.uid}:${c.user.gid}` : '', Labels: c.labels ?? {},
      Tty: c.tty === true, OpenStdin: c.openStdin === true,
    },
    HostConfig: {
      PortBindings: ports,
      Memory: c.limits.memory ?? 0,
      NanoCpus: c.limits.cpus ? Math.round(c.limits.cpus * 1e9) : 0,
      PidsLimit: c.limits.pidsLimit ?? 0,
      AutoRemove: c.autoRemove,
      Runtime: c.runtime,
      NetworkMode: c.network,
      ReadonlyRootfs: c.readOnly === true,
      CapAdd: c.capAdd ?? [],
      CapDrop: c.capDrop ?? [],
      ExtraHosts: (c.extraHosts ?? []).map((l) => l.split('\t').reverse().join(':')),
      Dns: c.dns?.servers ?? [],
      DnsSearch: c.dns?.search ?? [],
      Init: c.init === true,
      RestartPolicy: { Name: c.restartPolicy?.name ?? 'no', MaximumRetryCount: c.restartPolicy?.maximumRetryCount ?? 0 },
    },
    NetworkSettings: {
      SandboxKey: sandbox,
      IPAddress: ns?.IPAddress ?? '',
      IPPrefixLen: ns?.IPPrefixLen ?? 0,
      GlobalIPv6Address: ns?.GlobalIPv6Address ?? '',
      GlobalIPv6PrefixLen: ns?.GlobalIPv6PrefixLen ?? 0,
      Gateway: ns?.Gateway ?? '',
      IPv6Gateway: ns?.IPv6Gateway ?? '',
      MacAddress: ns?.MacAddress ?? '',
      Ports: byPort(publishedOn(c.ports, !!ns?.GlobalIPv6Address)),
      Networks: nets,
    },
  };
}

export async function inspect(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, {}, 'inspect');
  if (printHelpIfAsked('inspect', p, out)) return Exit.Ok;
  if (p.positionals.length === 0) throw new UsageError('inspect: at least one container is required');
  const found: Record<string, unknown>[] = [];
  let code: number = Exit.Ok;
  for (const r of p.positionals) {
    try {
      found.push(inspectJson(await refreshState(ctx, ctx.containers.resolve(r))));
    } catch (err) {
      process.stderr.write(`tscni: ${(err as Error).message}\n`);
      code = err instanceof RunnerError ? err.exitCode : Exit.Failure;
    }
  }
  out(JSON.stringify(found, null, 4) + '\n');
  return code;
}
