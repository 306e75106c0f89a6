// `tscni create` (docker create) and what it shares with `tscni run`: every flag parsed and validated into a
// ContainerState, the image found or pulled, then the name and host ports reserved under the global lock. A created
// container holds its name and ports, has its state directory and nothing else (no netns, mount, monitor); `tscni
// start` brings it up with the network mode it was created with.

import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs, bool, list, str, type Parsed } from './args/argv.ts';
import { buildBusybox } from '../image/busybox-image.ts';
import type { ContainerState } from '../container/store.ts';
import type { Ctx } from '../context.ts';
import { Exit, RunnerError, UsageError } from './errors.ts';
import { parseCpus, parseEnv, parseMemory, parsePids, parseRunOptions, RUN_OPTION_BOOLS, RUN_OPTION_MULTI, RUN_OPTION_VALUES } from './args/flags.ts';
import { NONE, type ImageRecord } from '../image/image-store.ts';
import { withLock } from '../lock.ts';
import { DEFAULT_NETWORK, findNetwork } from '../networks.ts';
import type { ConfList } from '../../libcni/conflist.ts';
import { checkPortsFreeOfOthers, exposedRequests, parsePublish, type PortRequest } from '../container/network/ports.ts';
import { pickHostPorts } from '../container/network/port-pick.ts';
import { checkModeFlags, joinedContainer, parseNetMode } from '../container/network/net-mode.ts';
import { refreshState } from '../container/stop.ts';
import { runtimeProblem } from '../container/runtime.ts';
import { checkAlias, checkContainerName } from '../container/store.ts';
import { checkNamesFree } from '../dns/names.ts';
import { HELP } from './help.ts';
import { parseMounts } from '../volume/mount-specs.ts';
import { parseRestart } from '../container/restart.ts';
import { checkAttachFlags } from '../container/attach-flags.ts';
import { parseDetachKeys } from '../tty/detach-keys.ts';
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

export interface Prepared {
  c: ContainerState;
  image?: ImageRecord;
  portReqs: PortRequest[];
  netList?: ConfList;
  p: Parsed;
}

/** run's and create's flags: everything validated, nothing created. Undefined: --help was printed. */
export async function prepareContainer(ctx: Ctx, argv: string[], verb: 'run' | 'create', out: (s: string) => void): Promise<Prepared | undefined> {
  const p = parseArgs(argv, {
    bools: ['detach', 'rm', 'dry-run', 'interactive', 'tty', 'publish-all', ...RUN_OPTION_BOOLS],
    values: ['name', 'network', 'ip', 'mac', 'hostname', 'memory', 'cpus', 'pids-limit', 'runtime', 'rootfs', 'pull', 'platform', 'restart', 'detach-keys', ...RUN_OPTION_VALUES],
    multi: ['publish', 'env', 'network-alias', 'volume', 'mount', 'tmpfs', ...RUN_OPTION_MULTI],
    aliases: { d: 'detach', p: 'publish', P: 'publish-all', e: 'env', i: 'interactive', t: 'tty', v: 'volume', w: 'workdir', u: 'user', l: 'label' },
    stopAtPositional: true,
  }, verb);
  if (bool(p, 'help')) {
    out(HELP[verb] + '\n');
    return undefined;
  }
  const [imageRef, ...cmdArgs] = p.positionals;
  if (!imageRef) throw new UsageError(`${verb}: an IMAGE is required\n${HELP[verb]}`);
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
  const [tty, interactive] = [bool(p, 'tty'), bool(p, 'interactive')];
  if (verb === 'run') checkAttachFlags('run', { tty, interactive, detach: bool(p, 'detach'), restarts: restartPolicy.name !== 'no' });
  if (str(p, 'detach-keys') !== undefined) parseDetachKeys(str(p, 'detach-keys')!);
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
    // run joins now, so X must run; create only records X (start checks that it runs).
    const target = joinedContainer(mode.ref, (r) => ctx.containers.resolve(r), verb === 'run');
    if (verb === 'run' && (await refreshState(ctx, target)).status !== 'running') throw new RunnerError(`cannot join the network of container ${mode.ref}: it is not running`, Exit.Conflict);
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
  if (cmd.length === 0) throw new UsageError(`${verb}: no command given and the image has no default command`);
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
    // A foreground run removes the container itself; a detached one (and a created one, started later) on exit.
    autoRemove: bool(p, 'rm') && (verb === 'create' || bool(p, 'detach')),
    tty: tty || undefined,
    openStdin: interactive || undefined,
    init: opts.init,
    runtime: runtimeBinary,
    status: 'created',
    setupPid: process.pid,
  };
  return { c, image, portReqs, netList, p };
}

/** Under the global lock: the name, the aliases and the host ports (picked ones recorded), then the state on disk. */
export async function reserveContainer(ctx: Ctx, c: ContainerState, portReqs: PortRequest[]): Promise<void> {
  await withLock(ctx.containers.globalLock, async () => {
    if (ctx.containers.nameTaken(c.name)) {
      throw new RunnerError(`the container name ${JSON.stringify(c.name)} is already in use: remove it first (tscni rm -f ${c.name})`, Exit.Conflict);
    }
    checkNamesFree(ctx.containers.all(), c);
    c.ports = await pickHostPorts(ctx, portReqs);
    await checkPortsFreeOfOthers(ctx, c.ports);
    ctx.containers.save(c, { create: true });
    ctx.containers.register(c);
  });
}

export async function createCommand(ctx: Ctx, argv: string[], out: (s: string) => void): Promise<number> {
  const prep = await prepareContainer(ctx, argv, 'create', out);
  if (!prep) return Exit.Ok;
  const { c, portReqs, p } = prep;
  for (const f of ['detach', 'dry-run', 'interactive', 'tty']) if (bool(p, f)) throw new UsageError(`create: --${f} belongs to run (start the container with tscni start)`);
  // Nothing to release until a start: no process owns the setup, so ps shows it as created, not as a crashed run.
  c.setupPid = undefined;
  c.released = true;
  await reserveContainer(ctx, c, portReqs);
  out(c.id + '\n');
  return Exit.Ok;
}
