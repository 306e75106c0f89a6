// Container, image and network commands (everything but the cnitool verbs): parse flags, call the library, print.

import { parseArgs, bool, str } from './argv.ts';
import type { ContainerState } from '../container/store.ts';
import { makeCtx, type Ctx } from '../context.ts';
import { Exit, RunnerError, UsageError, conflict } from './errors.ts';
import { destroyContainer, startContainer, interrupt } from '../container/lifecycle.ts';
import { refreshState, stopContainer } from '../container/stop.ts';
import { printLogs } from '../container/logs.ts';
import { runCommand } from './run.ts';
import { ago, humanDuration, table } from './table.ts';
import { image, images, rmi } from './images.ts';
import { network } from './network.ts';
import * as runtime from '../container/runtime.ts';

type Out = (s: string) => void;

const HELPS: Record<string, string> = {
  ps: 'Usage: tscni ps [-a|--all] [--json] [-q]\n\nLists running containers (-a: all, with exit codes).',
  inspect: 'Usage: tscni inspect NAME|ID...\n\nPrints JSON details: State, Config, HostConfig.PortBindings and NetworkSettings (IPAddress, Gateway, MacAddress, Ports).',
  logs: 'Usage: tscni logs [-f|--follow] [-t|--timestamps] [--tail N] NAME\n\nPrints the container\'s stdout/stderr (kept as JSON lines with timestamps).',
  stop: 'Usage: tscni stop [-t|--time SECS] NAME...\n\nSends SIGTERM, then SIGKILL after SECS (default 10); records the exit code and releases the network.',
  start: 'Usage: tscni start NAME...\n\nStarts stopped containers again (new netns, the network chain ADDed again).',
  rm: 'Usage: tscni rm [-f|--force] NAME...\n\nRemoves containers (-f: stop running ones first). Releases network, mounts and state.',
  exec: 'Usage: tscni exec [-i] [-t] [-e K=V]... [-w DIR] NAME CMD [ARG...]\n\nRuns a command in a running container (runc exec).',
  explain: 'Usage: tscni explain NAME PORT[/PROTO]\n\nShows the path a packet to a published port takes: the nft map entry, the container address, the veth.',
};

function help(cmd: string, p: { flags: Record<string, unknown> }, out: Out): boolean {
  if (p.flags.help === true) {
    out(HELPS[cmd] + '\n');
    return true;
  }
  return false;
}

function statusText(c: ContainerState): string {
  if (c.status === 'running') return `Up ${humanDuration(Date.now() - Date.parse(c.startedAt ?? c.created))}`;
  if (c.status === 'created') return 'Created';
  return `Exited (${c.exitCode ?? 255}) ${ago(c.finishedAt)}`;
}

function portsText(c: ContainerState): string {
  return c.ports.map((p) => `${p.hostIP || '0.0.0.0'}:${p.hostPort}->${p.containerPort}/${p.protocol}`).join(', ');
}

function inspectJson(c: ContainerState): Record<string, unknown> {
  const ports: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of c.ports) (ports[`${p.containerPort}/${p.protocol}`] ??= []).push({ HostIp: p.hostIP || '0.0.0.0', HostPort: String(p.hostPort) });
  const ns = c.status === 'running' ? c.networkSettings : undefined;
  return {
    Id: c.id,
    Name: `/${c.name}`,
    Created: c.created,
    Image: c.image,
    State: {
      Status: c.status,
      Running: c.status === 'running',
      Pid: c.pid ?? 0,
      ExitCode: c.exitCode ?? 0,
      Error: c.error ?? '',
      StartedAt: c.startedAt ?? '',
      FinishedAt: c.finishedAt ?? '',
    },
    Config: { Hostname: c.hostname, Env: c.env, Cmd: c.cmd, Image: c.image, WorkingDir: c.workdir },
    HostConfig: {
      PortBindings: ports,
      Memory: c.limits.memory ?? 0,
      NanoCpus: c.limits.cpus ? Math.round(c.limits.cpus * 1e9) : 0,
      PidsLimit: c.limits.pidsLimit ?? 0,
      AutoRemove: c.autoRemove,
      Runtime: c.runtime,
      NetworkMode: c.network,
    },
    NetworkSettings: {
      SandboxKey: `/var/run/netns/${c.netnsName}`,
      IPAddress: ns?.IPAddress ?? '',
      IPPrefixLen: ns?.IPPrefixLen ?? 0,
      Gateway: ns?.Gateway ?? '',
      MacAddress: ns?.MacAddress ?? '',
      Ports: ports,
      Networks: { [c.network]: { IPAddress: ns?.IPAddress ?? '', IPPrefixLen: ns?.IPPrefixLen ?? 0, Gateway: ns?.Gateway ?? '', MacAddress: ns?.MacAddress ?? '' } },
    },
  };
}

async function ps(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, { bools: ['all', 'json', 'quiet'], aliases: { a: 'all', q: 'quiet' } }, 'ps');
  if (help('ps', p, out)) return Exit.Ok;
  const all = await Promise.all(ctx.containers.all().map((c) => refreshState(ctx, c)));
  const shown = all.filter((c) => bool(p, 'all') || c.status === 'running').reverse();
  if (bool(p, 'json')) {
    out(JSON.stringify(shown.map((c) => ({ Id: c.id, Name: c.name, Image: c.image, Command: c.cmd, Created: c.created, State: c.status, Status: statusText(c), ExitCode: c.exitCode ?? null, Ports: c.ports, IPAddress: c.status === 'running' ? c.networkSettings?.IPAddress ?? '' : '', Network: c.network })), null, 2) + '\n');
  } else if (bool(p, 'quiet')) {
    for (const c of shown) out(c.id.slice(0, 12) + '\n');
  } else {
    out(table(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], shown.map((c) => {
      const cmd = c.cmd.join(' ');
      return [c.id.slice(0, 12), c.image, JSON.stringify(cmd.length > 20 ? cmd.slice(0, 19) + '…' : cmd), ago(c.created), statusText(c), portsText(c), c.name];
    })));
  }
  return Exit.Ok;
}

async function forEachRef(refs: string[], what: string, fn: (ref: string) => Promise<void>): Promise<number> {
  if (refs.length === 0) throw new UsageError(`${what}: at least one container is required`);
  let code: number = Exit.Ok;
  for (const r of refs) {
    try {
      await fn(r);
    } catch (err) {
      process.stderr.write(`tscni: ${(err as Error).message}\n`);
      code = err instanceof RunnerError ? err.exitCode : Exit.Failure;
    }
  }
  return code;
}

async function stop(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, { values: ['time'], aliases: { t: 'time' } }, 'stop');
  if (help('stop', p, out)) return Exit.Ok;
  const secs = str(p, 'time') === undefined ? 10 : Number(str(p, 'time'));
  if (!Number.isFinite(secs) || secs < 0) throw new UsageError(`invalid --time ${str(p, 'time')}: expected seconds`);
  return forEachRef(p.positionals, 'stop', async (r) => {
    const c = await refreshState(ctx, ctx.containers.resolve(r));
    await stopContainer(ctx, c, secs);
    out(r + '\n');
  });
}

async function start(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, {}, 'start');
  if (help('start', p, out)) return Exit.Ok;
  return forEachRef(p.positionals, 'start', async (r) => {
    const c = await refreshState(ctx, ctx.containers.resolve(r));
    if (c.status === 'running') {
      out(r + '\n');
      return;
    }
    const image = c.rootfsDir ? undefined : ctx.images.get(c.image);
    const onSignal = () => (interrupt.requested = true);
    process.on('SIGINT', onSignal);
    try {
      await withPortsCheck(ctx, c);
      await startContainer(ctx, c, image ? ctx.images.layerDirs(image) : undefined);
    } finally {
      process.off('SIGINT', onSignal);
    }
    out(r + '\n');
  });
}

/** Re-reserves a stopped container's ports under the global lock, as run does for a new one. */
async function withPortsCheck(ctx: Ctx, c: ContainerState): Promise<void> {
  const { checkPortsFree } = await import('../container/ports.ts');
  const { withLock } = await import('../lock.ts');
  await withLock(ctx.containers.globalLock, async () => {
    const others = ctx.containers.all().filter((o) => o.id !== c.id && o.status !== 'exited' && o.ports.length);
    checkPortsFree(c.ports, others.map((o) => ({ owner: o.name, ports: o.ports })));
    c.status = 'created';
    c.setupPid = process.pid;
    c.monitorPid = undefined;
    ctx.containers.save(c);
  });
}

async function rm(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, { bools: ['force'], aliases: { f: 'force' } }, 'rm');
  if (help('rm', p, out)) return Exit.Ok;
  return forEachRef(p.positionals, 'rm', async (r) => {
    let c = await refreshState(ctx, ctx.containers.resolve(r));
    if (c.status !== 'exited') {
      if (!bool(p, 'force')) throw conflict(`cannot remove container ${r}: it is ${c.status}; stop it first or use rm -f`);
      c = await stopContainer(ctx, c, 0);
    }
    const problems = await destroyContainer(ctx, c);
    if (problems.length) throw new RunnerError(`removed ${r}, but cleanup reported: ${problems.join('; ')}`);
    out(r + '\n');
  });
}

async function logs(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, { bools: ['follow', 'timestamps'], values: ['tail'], aliases: { f: 'follow', t: 'timestamps' } }, 'logs');
  if (help('logs', p, out)) return Exit.Ok;
  if (p.positionals.length !== 1) throw new UsageError('logs: exactly one container is required');
  const c = ctx.containers.resolve(p.positionals[0]);
  const tail = str(p, 'tail');
  await printLogs(ctx, c, { follow: bool(p, 'follow'), timestamps: bool(p, 'timestamps'), tail: tail === undefined || tail === 'all' ? undefined : Number(tail) }, out, (s) => process.stderr.write(s));
  return Exit.Ok;
}

async function exec(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, { bools: ['interactive', 'tty'], values: ['workdir'], multi: ['env'], aliases: { i: 'interactive', t: 'tty', e: 'env', w: 'workdir' }, stopAtPositional: true }, 'exec');
  if (help('exec', p, out)) return Exit.Ok;
  const [ref, ...cmd] = p.positionals;
  if (!ref || cmd.length === 0) throw new UsageError('exec: a container and a command are required');
  const c = await refreshState(ctx, ctx.containers.resolve(ref));
  if (c.status !== 'running') throw conflict(`container ${ref} is not running`);
  const { parseEnv } = await import('./flags.ts');
  const child = runtime.spawnExec(ctx.runtime(c.runtime), c.id, cmd, { tty: bool(p, 'tty'), env: parseEnv((p.flags.env as string[]) ?? []), cwd: str(p, 'workdir') });
  return new Promise((resolve) => child.on('close', (code, sig) => resolve(code ?? (sig ? 128 + 9 : 1))));
}

async function inspect(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, {}, 'inspect');
  if (help('inspect', p, out)) return Exit.Ok;
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

const COMMANDS: Record<string, (ctx: Ctx, argv: string[], out: Out) => Promise<number>> = {
  run: runCommand,
  ps,
  inspect,
  logs,
  stop,
  start,
  rm,
  exec,
  images,
  rmi,
  image,
  network,
  load: async (ctx, argv, out) => (await import('../image/load.ts')).loadCommand(ctx, argv, out),
  explain: async (ctx, argv, out) => (await import('./explain.ts')).explainCommand(ctx, argv, out),
};

/** Commands that create namespaces, mounts, cgroups or runc state. */
const NEEDS_ROOT = new Set(['run', 'start', 'stop', 'rm', 'exec', 'load', 'image', 'rmi']);

export async function containerCommand(cmd: string, argv: string[], out: Out): Promise<number> {
  const fn = COMMANDS[cmd];
  if (!fn) throw new UsageError(`unknown command ${JSON.stringify(cmd)}: see tscni --help`);
  const wantsHelp = argv.includes('--help') || argv.includes('-h') || (cmd === 'image' && argv.length === 0);
  if (NEEDS_ROOT.has(cmd) && !wantsHelp && process.getuid?.() !== 0) {
    throw new RunnerError(`tscni ${cmd} needs root: it creates network namespaces, mounts and cgroups (try sudo)`);
  }
  return fn(makeCtx(), argv, out);
}

