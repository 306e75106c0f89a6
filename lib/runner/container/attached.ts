// A foreground `run -i` without -t: this process is the container's monitor (monitor.ts's `supervise`), with runc
// on our stdin; the output is shown and goes to the log (what is refused before anything exists: attach-flags.ts).
//
// A -t run (foreground or -dt, -dit) is the detached monitor's instead: `runc run -d --console-socket` hands it the
// pty (tty/console.ts) and `tscni attach`, or the foreground `run` itself, connects a terminal to it.

import type { Ctx } from '../context.ts';
import type { ContainerState } from './store.ts';
import { Exit, RunnerError } from '../cli/errors.ts';
import { destroyContainer } from './lifecycle.ts';
import { supervise } from './monitor.ts';
import * as runtime from './runtime.ts';

/**
 * Runs a started (attached) container to its end with our stdio and returns its exit code; --rm removes it after.
 * A signal sent to tscni alone (SIGTERM from `kill`) is passed to the container, as docker's sig-proxy does; the
 * terminal's own SIGINT/SIGHUP reach runc directly (same process group), which hands them to the container.
 */
export async function runAttached(ctx: Ctx, c: ContainerState, rm: boolean): Promise<number> {
  const rt = ctx.runtime(c.runtime);
  const ignore = () => undefined;
  const forward = () => void runtime.kill(rt, c.id, 'TERM');
  process.on('SIGINT', ignore);
  process.on('SIGHUP', ignore);
  process.on('SIGTERM', forward);
  try {
    await supervise(ctx, c.id, {
      stdin: c.openStdin ? 'inherit' : 'ignore',
      echo: (chunk, stream) => (stream === 'stderr' ? process.stderr : process.stdout).write(chunk),
    });
  } catch (err) {
    // rm -f from elsewhere removed it under us: nothing is left to record or remove.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  } finally {
    process.off('SIGINT', ignore);
    process.off('SIGHUP', ignore);
    process.off('SIGTERM', forward);
  }
  const s = ctx.containers.load(c.id);
  if (!s) return 255;
  // The runtime's own failure (runc logs errors only for those): the run failed and leaves nothing, as a detached one.
  if (s.error) {
    await destroyContainer(ctx, s);
    throw new RunnerError(`${c.runtime} could not start the container: ${s.error}`, Exit.RunFailed);
  }
  if (rm) await destroyContainer(ctx, s);
  return s.exitCode ?? 255;
}
