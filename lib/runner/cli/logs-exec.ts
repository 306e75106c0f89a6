// `tscni logs` (the recorded output, optionally followed) and `tscni exec` (a command in a running container).

import { parseArgs, bool, str } from './args/argv.ts';
import { printLogs } from '../container/logs.ts';
import * as runtime from '../container/runtime.ts';
import { refreshState } from '../container/stop.ts';
import type { Ctx } from '../context.ts';
import { Exit, RunnerError, UsageError, conflict } from './errors.ts';
import { parseEnv } from './args/flags.ts';
import { printHelpIfAsked } from './help.ts';
import { checkAttachFlags } from '../container/attach-flags.ts';

type Out = (s: string) => void;

/**
 * runc sizes the pty from our terminal when it starts forwarding signals, which can come before it has received
 * the pty (then it skips the resize until the next SIGWINCH): a SIGWINCH once the process exists, and once more a
 * little later, makes it size the pty it has by then.
 */
function resizeSoon(pid: number | undefined): void {
  const winch = () => {
    try {
      if (pid) process.kill(pid, 'SIGWINCH');
    } catch {
      // runc is gone already
    }
  };
  winch();
  setTimeout(winch, 100).unref();
}

export async function logs(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, { bools: ['follow', 'timestamps'], values: ['tail'], aliases: { f: 'follow', t: 'timestamps' } }, 'logs');
  if (printHelpIfAsked('logs', p, out)) return Exit.Ok;
  if (p.positionals.length !== 1) throw new UsageError('logs: exactly one container is required');
  const c = ctx.containers.resolve(p.positionals[0]);
  const tail = str(p, 'tail');
  await printLogs(ctx, c, { follow: bool(p, 'follow'), timestamps: bool(p, 'timestamps'), tail: tail === undefined || tail === 'all' ? undefined : Number(tail) }, out, (s) => process.stderr.write(s));
  return Exit.Ok;
}

export async function exec(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, { bools: ['interactive', 'tty'], values: ['workdir'], multi: ['env'], aliases: { i: 'interactive', t: 'tty', e: 'env', w: 'workdir' }, stopAtPositional: true }, 'exec');
  if (printHelpIfAsked('exec', p, out)) return Exit.Ok;
  const [ref, ...cmd] = p.positionals;
  if (!ref || cmd.length === 0) throw new UsageError('exec: a container and a command are required');
  checkAttachFlags('exec', { tty: bool(p, 'tty'), interactive: bool(p, 'interactive'), detach: false, restarts: false });
  const c = await refreshState(ctx, ctx.containers.resolve(ref));
  if (c.status !== 'running') throw conflict(`container ${ref} is not running`);
  const child = await runtime.spawnExec(ctx.runtime(c.runtime), c.id, cmd, { tty: bool(p, 'tty'), interactive: bool(p, 'interactive'), env: parseEnv((p.flags.env as string[]) ?? []), cwd: str(p, 'workdir') });
  // runc exec -t can miss its first resize the same way runc run does (container/monitor.ts).
  if (bool(p, 'tty')) setTimeout(() => resizeSoon(child.pid), 50).unref();
  const { exitCode, signal, startError } = await child.ended;
  if (startError !== undefined) throw new RunnerError(`${c.runtime}: ${startError}`);
  return exitCode ?? (signal ? 128 + 9 : 1);
}
