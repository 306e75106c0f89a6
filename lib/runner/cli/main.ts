// tscni: the runner's entry. This folder (lib/runner/cli/) owns the command line: argv parsing, every help text
// (help.ts), one file per verb or small group of verbs, exit codes (errors.ts) and the root policy below.
// The CNI client it drives lives in lib/libcni/, containers in ../container/, images in ../image/.

import { toCniError, CniError } from '../../cni/errors.ts';
import { makeCtx, type Ctx } from '../context.ts';
import { RunnerError, UsageError, Exit } from './errors.ts';
import { OVERVIEW } from './help.ts';

type Out = (s: string) => void;
type Verb = (ctx: Ctx, argv: string[], out: Out) => Promise<number>;

const out: Out = (s) => process.stdout.write(s);

// Loaded on use: a verb pays only for the modules it needs.
const VERBS: Record<string, Verb> = {
  run: async (ctx, argv, o) => (await import('./run.ts')).runCommand(ctx, argv, o),
  create: async (ctx, argv, o) => (await import('./create.ts')).createCommand(ctx, argv, o),
  ps: async (ctx, argv, o) => (await import('./ps.ts')).ps(ctx, argv, o),
  inspect: async (ctx, argv, o) => (await import('./inspect.ts')).inspect(ctx, argv, o),
  logs: async (ctx, argv, o) => (await import('./logs-exec.ts')).logs(ctx, argv, o),
  exec: async (ctx, argv, o) => (await import('./logs-exec.ts')).exec(ctx, argv, o),
  stop: async (ctx, argv, o) => (await import('./manage.ts')).stop(ctx, argv, o),
  start: async (ctx, argv, o) => (await import('./manage.ts')).start(ctx, argv, o),
  rm: async (ctx, argv, o) => (await import('./manage.ts')).rm(ctx, argv, o),
  attach: async (ctx, argv, o) => (await import('../tty/attach.ts')).attachCommand(ctx, argv, o),
  images: async (ctx, argv, o) => (await import('./images.ts')).images(ctx, argv, o),
  rmi: async (ctx, argv, o) => (await import('./images.ts')).rmi(ctx, argv, o),
  image: async (ctx, argv, o) => (await import('./images.ts')).image(ctx, argv, o),
  load: async (ctx, argv, o) => (await import('./images.ts')).load(ctx, argv, o),
  pull: async (ctx, argv, o) => (await import('./images.ts')).pull(ctx, argv, o),
  login: async (ctx, argv, o) => (await import('./images.ts')).login(ctx, argv, o),
  logout: async (ctx, argv, o) => (await import('./images.ts')).logout(ctx, argv, o),
  boot: async (ctx, argv, o) => (await import('./manage.ts')).boot(ctx, argv, o),
  volume: async (ctx, argv, o) => (await import('./volume.ts')).volume(ctx, argv, o),
  network: async (ctx, argv, o) => (await import('./network.ts')).network(ctx, argv, o),
  port: async (ctx, argv, o) => (await import('./port.ts')).port(ctx, argv, o),
  explain: async (ctx, argv, o) => (await import('./explain.ts')).explainCommand(ctx, argv, o),
};

/** Commands that create namespaces, mounts, cgroups or runc state. */
const NEEDS_ROOT = new Set(['run', 'create', 'start', 'stop', 'rm', 'exec', 'load', 'image', 'rmi', 'pull', 'volume', 'boot']);

async function containerCommand(cmd: string, argv: string[]): Promise<number> {
  const fn = VERBS[cmd];
  if (!fn) throw new UsageError(`unknown command ${JSON.stringify(cmd)}: see tscni --help`);
  const wantsHelp = argv.includes('--help') || argv.includes('-h') || (cmd === 'image' && argv.length === 0);
  if (NEEDS_ROOT.has(cmd) && !wantsHelp && process.getuid?.() !== 0) {
    throw new RunnerError(`tscni ${cmd} needs root: it creates network namespaces, mounts and cgroups (try sudo)`);
  }
  return fn(makeCtx(), argv, out);
}

async function dispatch(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out(OVERVIEW + '\n');
      return cmd === undefined ? Exit.Usage : Exit.Ok;
    case 'add':
    case 'del':
    case 'check':
    case 'status':
    case 'gc':
      return (await import('../../libcni/cnitool.ts')).cnitoolCommand(cmd, rest, out);
    case 'agent':
      return (await import('../../agent/main.ts')).agentCommand(rest, out);
    case 'install':
      return (await import('../../install/install.ts')).runInstall(rest);
    case 'uninstall':
      return (await import('../../install/uninstall.ts')).runUninstall(rest);
    case '__resolver':
      return (await import('../dns/resolver.ts')).resolverMain(rest);
    case '__proxy':
      return (await import('../container/network/loopback-proxy.ts')).proxyMain(rest);
    case '__monitor':
      return (await import('../container/monitor.ts')).monitorMain(rest);
    default:
      return containerCommand(cmd, rest);
  }
}

async function main(): Promise<void> {
  let code: number;
  try {
    code = await dispatch(process.argv.slice(2));
  } catch (err) {
    if (err instanceof RunnerError) {
      process.stderr.write(`tscni: ${err.message}\n`);
      code = err.exitCode;
    } else {
      const e = err instanceof CniError ? err : toCniError(err);
      process.stderr.write(`tscni: ${e.message}${e.details ? ` (${e.details})` : ''}\n`);
      code = Exit.Failure;
    }
  }
  process.exitCode = code;
}

void main();
