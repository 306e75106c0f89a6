// tscni: the runner's entry. Dispatches to cnitool-style network verbs and docker-like container commands.

import { toCniError, CniError } from '../../cni/errors.ts';
import { RunnerError, Exit } from './errors.ts';

const HELP = `Usage: tscni COMMAND [ARGS]

Network (cnitool-compatible, libcni semantics):
  add|check|del|status|gc <network> <netns-path>   run a network list on a netns (see tscni add --help)

Containers (runc + tscni's CNI plugins):
  run [-d] [-p PORTS]... IMAGE [CMD...]   create and start a container
  ps [-a] [--json]                         list containers
  inspect NAME                             low-level details (NetworkSettings like docker inspect)
  logs [-f] [-t] NAME                      the container's output
  exec [-it] NAME CMD...                   run a command inside a running container
  stop [-t SECS] NAME...                   stop (records the exit code, releases the network)
  start NAME...                            start a stopped container again
  rm [-f] NAME...                          remove containers
  explain NAME PORT                        the path a packet to a published port takes

Images:
  images [--json]   rmi NAME   load FILE   image build-busybox

Networks:
  network ls|inspect|create|rm

Installation (for other runtimes: containerd, podman, kubelet):
  install|uninstall [options]              put the plugins and a network config in place (see tscni install --help)

Every command takes --help. Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 conflict, 125 run failed.
Environment: NETCONFPATH, CNI_PATH, TSCNI_STATE_DIR, TSCNI_CACHE_DIR, TSCNI_RUNTIME (see README).`;

const out = (s: string) => process.stdout.write(s);

async function dispatch(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out(HELP + '\n');
      return cmd === undefined ? Exit.Usage : Exit.Ok;
    case 'add':
    case 'del':
    case 'check':
    case 'status':
    case 'gc':
      return (await import('../../libcni/cnitool.ts')).cnitoolCommand(cmd, rest, out);
    case 'install':
      return (await import('../../install/install.ts')).runInstall(rest);
    case 'uninstall':
      return (await import('../../install/uninstall.ts')).runUninstall(rest);
    case '__monitor':
      return (await import('../container/monitor.ts')).monitorMain(rest);
    default:
      return (await import('./dispatch.ts')).containerCommand(cmd, rest, out);
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
