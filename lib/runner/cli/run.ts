// `tscni run`: validate everything, reserve the name and ports under the global lock, then start on an undo stack.

import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs, bool, list, str } from './args/argv.ts';
import { buildBusybox } from '../image/busybox-image.ts';
import type { ContainerState } from '../container/store.ts';
import type { Ctx } from '../context.ts';
import { Exit, RunnerError, UsageError } from './errors.ts';
import { parseCpus, parseEnv, parseMemory, parsePids, parseRunOptions, RUN_OPTION_BOOLS, RUN_OPTION_MULTI, RUN_OPTION_VALUES } from './args/flags.ts';
import { NONE, type ImageRecord } from '../image/image-store.ts';
import { destroyContainer, interrupt, startContainer } from '../container/lifecycle.ts';
import { stopContainer } from '../container/stop.ts';
import { withLock } from '../lock.ts';
import { DEFAULT_NETWORK, findNetwork } from '../networks.ts';
import { checkPortsFreeOfOthers, exposedRequests, parsePublish } from '../container/network/ports.ts';
import { pickHostPorts } from '../container/network/port-pick.ts';
import { checkModeFlags, joinedContainer, parseNetMode } from '../container/network/net-mode.ts';
import { refreshState } from '../container/stop.ts';
import { hostname as osHostname } from 'node:os';
import { runtimeProblem } from '../container/runtime.ts';
import { checkAlias, checkContainerName } from '../container/store.ts';
import { checkNamesFree } from '../dns/names.ts';
import { capabilityArgsFor } from '../../libcni/capability-args.ts';
import { HELP } from './help.ts';
import { addNetworkList } from '../../libcni/chain.ts';
import { printLogs } from '../container/logs.ts';
import { trace } from '../trace.ts';
import { parseMounts } from '../volume/mount-specs.ts';
import { parseRestart } from '../container/restart.ts';
import { checkAttachFlags, runAttached } from '../container/attached.ts';
import { initProblem } from '../container/lifecycle.ts';


function randomName(): string {
  const a = ['brave', 'calm', 'eager', 'fancy', 'gentle', 'happy', 'jolly', 'keen', 'lucid', 'merry', 'nifty', 'quiet'];
  const b = ['otter', 'lynx', 'heron', 'panda', 'gecko', 'koala', 'bison', 'crane', 'dingo', 'egret', 'ibis', 'yak'];
  const r = randomBytes(3);
  return `${a[r[0] % a.length]}_${b[r[1] % b.length]}_${r[2]}`;
}

/** The image to run: from the store, else the built-in busybox, else pulled (`--pull missing|always|never`). */
async function resolveImage(ctx: Ctx, ref: string, pull: string, platform: string | undefined): Promise<ImageRecord> {
  const img = pull === 'always' ? undefined : ctx.images.find(ref);
  if (img) return img;
  if (pull !== 'always' && /^(docker\.io\/)?(library\/)?busybox(:latest)?$/.test(ref)) return buildBusybox(ctx.images);
  if (pull === 'never') return ctx.images.get(ref);
  const { pullImage } = await import('../image/registry/pull.ts');
  const { parsePlatform } = await import('../image/registry/reference.ts');
  const say = (s: string) => process.stderr.write(s);
  if (pull !== 'always') say(`Unable to find image '${ref}' locally\n`);
  return pullImage(ctx, ref, { platform: parsePlatform(platform), quiet: false, say });
}

export async function runCommand(ctx: Ctx, argv: string[], out: (s: string) => void): Promise<number> {
  const p = parseArgs(argv, {
    bools: ['detach', 'rm', 'dry-run', 'interactive', 'tty', 'publish-all', ...RUN_OPTION_BOOLS],
    values: ['name', 'network', 'ip', 'mac', 'hostname', 'memory', 'cpus', 'pids-limit', 'runtime', 'rootfs', 'pull', 'platform', 'restart', ...RUN_OPTION_VALUES],
    multi: ['publish', 'env', 'network-alias', 'volume', 'mount', 'tmpfs', ...RUN_OPTION_MULTI],
    aliases: { d: 'detach', p: 'publish', P: 'publish-all', e: 'env', i: 'interactive', t: 'tty', v: 'volume', w: 'workdir', u: 'user', l: 'label' },
    stopAtPositional: true,
  }, 'run');
  if (bool(p, 'help')) {
    out(HELP.run + '\n');
    return Exit.Ok;
  }
  const [imageRef, ...cmdArgs] = p.positionals;
  if (!imageRef) throw new UsageError(`run: an IMAGE is required\n${HELP.run}`);
  const name = str(p, 'name') ?? randomName();
  checkContainerName(name);
  const portReqs = list(p, 'publish').flatMap(parsePublish);
  const mode = parseNetMode(str(p, 'network') ?? DEFAULT_NETWORK);
  const aliases = [...new Set(list(p, 'network-alias'))];
  for (const a of aliases) checkAlias(a);
  checkModeFlags(mode, { ports: portReqs.length, ip: str(p, 'ip'), mac: str(p, 'mac'), hostname: str(p, 'hostname'), aliases: aliases.length });
  const restartPolicy = parseRestart(str(p, 'restart'));
  const opts = parseRunOptions(p);
  if (restartPolicy.name !== 'no' && bool(p, 'rm')) throw new UsageError('conflicting options: --restart and --rm');
  const detach = bool(p, 'detach');
  const [tty, interactive] = [bool(p, 'tty'), bool(p, 'interactive')];
  checkAttachFlags('run', { tty, interactive, detach, restarts: restartPolicy.name !== 'no' });
  const badInit = opts.init ? initProblem(ctx.paths.initBinary) : undefined;
  if (badInit) throw new RunnerError(badInit, Exit.RunFailed);
  const mounts = parseMounts({ volumes: list(p, 'volume'), mounts: list(p, 'mount'), tmpfs: list(p, 'tmpfs') }, () => randomBytes(32).toString('hex'));
  for (const m of mounts) if (m.type === 'bind' && !m.createHostPath && !existsSync(m.source!)) throw new UsageError(`invalid --mount: bind source path ${m.source} does not exist`);
  // Before anything is created: a runtime that cannot be run would otherwise only show as a start timeout.
  const runtimeBinary = str(p, 'runtime') ?? ctx.paths.runtime;
  const badRuntime = runtimeProblem(runtimeBinary);
  if (badRuntime) throw new RunnerError(`cannot run the container: the runtime ${badRuntime}`, Exit.RunFailed);
  const rootfsDir = str(p, 'rootfs') ? resolve(str(p, 'rootfs')!) : undefined;
  if (rootfsDir && (!existsSync(rootfsDir) || !statSync(rootfsDir).isDirectory())) throw new UsageError(`invalid --rootfs ${rootfsDir}: not a directory`);
  const netList = mode.kind === 'network' ? findNetwork(ctx.paths, mode.name) : undefined;
  let network = mode.kind === 'network' ? mode.name : mode.kind;
  let hostname = str(p, 'hostname');
  if (mode.kind === 'host') hostname ??= osHostname();
  if (mode.kind === 'container') {
    const target = joinedContainer(mode.ref, (r) => ctx.containers.resolve(r));
    if ((await refreshState(ctx, target)).status !== 'running') throw new RunnerError(`cannot join the network of container ${mode.ref}: it is not running`, Exit.Conflict);
    network = `container:${target.id}`;
    hostname = target.hostname;
  }
  const pullPolicy = str(p, 'pull') ?? 'missing';
  if (!['missing', 'always', 'never'].includes(pullPolicy)) throw new UsageError(`invalid --pull ${JSON.stringify(pullPolicy)}: missing, always or never`);
  const image = rootfsDir ? undefined : await resolveImage(ctx, imageRef, pullPolicy, str(p, 'platform'));
  // -P: every port the image EXPOSEs, on a picked host port (as many as -p would give on a none/host mode: refused).
  if (bool(p, 'publish-all') && image?.config.ExposedPorts && mode.kind === 'network') portReqs.push(...exposedRequests(image.config.ExposedPorts));
  const id = randomBytes(32).toString('hex');
  const cfg = image?.config ?? {};
  // docker: --entrypoint replaces the image's entrypoint and drops its default command.
  const cmd = opts.entrypoint ? [...opts.entrypoint, ...cmdArgs] : [...(cfg.Entrypoint ?? []), ...(cmdArgs.length ? cmdArgs : cfg.Cmd ?? [])];
  if (cmd.length === 0) throw new UsageError('run: no command given and the image has no default command');
  // docker: -t sets TERM=xterm, unless the image or -e/--env-file set a TERM.
  const baseEnv = cfg.Env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];
  const userEnv = [...opts.envFiles, ...parseEnv(list(p, 'env'))];
  const limits: ContainerState['limits'] = {};
  if (str(p, 'memory')) limits.memory = parseMemory(str(p, 'memory')!);
  if (str(p, 'cpus')) limits.cpus = parseCpus(str(p, 'cpus')!);
  if (str(p, 'pids-limit')) limits.pidsLimit = parsePids(str(p, 'pids-limit')!);
  const c: ContainerState = {
    id,
    name,
    image: image ? (image.tag === NONE && image.digest ? `${image.repo}@${image.digest}` : `${image.repo}:${image.tag}`) : imageRef,
    imageId: image?.id ?? '',
    rootfsDir,
    cmd,
    env: [...baseEnv, `HOSTNAME=${hostname ?? id.slice(0, 12)}`, ...(tty && ![...baseEnv, ...userEnv].some((e) => e.startsWith('TERM=')) ? ['TERM=xterm'] : []), ...userEnv],
    workdir: opts.workdir ?? (cfg.WorkingDir || '/'),
    user: opts.user,
    readOnly: opts.readOnly,
    capAdd: opts.capAdd,
    capDrop: opts.capDrop,
    labels: opts.labels,
    extraHosts: opts.extraHosts,
    dns: opts.dns,
    hostname: hostname ?? id.slice(0, 12),
    created: new Date().toISOString(),
    network,
    ifName: 'eth0',
    netnsName: id,
    ports: portReqs.map(({ hostRange: _r, ...m }) => m),
    aliases: aliases.length ? aliases : undefined,
    requestedIp: str(p, 'ip'),
    requestedMac: str(p, 'mac'),
    limits,
    mounts,
    restartPolicy,
    autoRemove: bool(p, 'rm') && detach,
    tty: tty || undefined,
    openStdin: interactive || undefined,
    init: opts.init,
    runtime: runtimeBinary,
    status: 'created',
    setupPid: process.pid,
  };

  if (bool(p, 'dry-run')) {
    if (!netList) {
      out(`# dry run: container ${name} in network mode ${network}: no CNI chain; nothing is changed\n`);
      return Exit.Ok;
    }
    // The ports a run would pick now (without the lock: a plan, not a reservation).
    c.ports = await pickHostPorts(ctx, portReqs);
    out(`# dry run: container ${name} on network ${network} (${netList.file}); nothing is changed\n`);
    await addNetworkList(netList, { containerId: id, netns: `${ctx.paths.netnsDir}/${id}`, ifName: 'eth0', capabilityArgs: capabilityArgsFor(c) }, ctx.chain({ dryRun: true, onPlan: (e) => out(JSON.stringify(e, null, 2) + '\n') }));
    out(`# then: ${c.runtime} run ${id} (rootfs ${rootfsDir ?? `overlay of ${image?.layers.length} layer(s) of ${c.image}`}, cmd ${JSON.stringify(cmd)})\n`);
    return Exit.Ok;
  }

  trace('validated');
  await withLock(ctx.containers.globalLock, async () => {
    if (ctx.containers.nameTaken(name)) {
      throw new RunnerError(`the container name ${JSON.stringify(name)} is already in use: remove it first (tscni rm -f ${name})`, Exit.Conflict);
    }
    checkNamesFree(ctx.containers.all(), c);
    c.ports = await pickHostPorts(ctx, portReqs);
    await checkPortsFreeOfOthers(ctx, c.ports);
    ctx.containers.save(c, { create: true });
    ctx.containers.register(c);
  });

  trace('name and ports reserved');
  const onSignal = () => {
    interrupt.requested = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let started: ContainerState;
  // -i or -t in the foreground: this process runs the container itself, on our stdin and terminal.
  const attached = !detach && (tty || interactive);
  try {
    started = await startContainer(ctx, c, image ? ctx.images.layerDirs(image) : undefined, attached ? { attached: { terminal: tty } } : {});
  } catch (err) {
    await destroyContainer(ctx, ctx.containers.load(id) ?? c).catch(() => undefined);
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (detach) {
    out(id + '\n');
    return Exit.Ok;
  }
  if (attached) return runAttached(ctx, started, bool(p, 'rm'));
  return attach(ctx, started, bool(p, 'rm'), out);
}

/** Foreground: streams the output until the container exits; Ctrl-C stops it. Exits with the container's code. */
async function attach(ctx: Ctx, c: ContainerState, rm: boolean, out: (s: string) => void): Promise<number> {
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    void stopContainer(ctx, c, 10);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await printLogs(ctx, c, { follow: true, timestamps: false, tail: undefined }, out, (s) => process.stderr.write(s));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  let s = ctx.containers.load(c.id) ?? c;
  for (let i = 0; i < 500 && s.status !== 'exited'; i++) {
    await new Promise((r) => setTimeout(r, 20));
    s = ctx.containers.load(c.id) ?? s;
  }
  const code = s.exitCode ?? 255;
  if (rm) await destroyContainer(ctx, s);
  return code;
}
