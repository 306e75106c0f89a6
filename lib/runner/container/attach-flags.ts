// Which -i/-t/-d combinations `run` and `exec` refuse, and with what, before anything exists (pure but for the
// terminal checks, which callers may inject).

import { closeSync, openSync } from 'node:fs';
import { isatty } from 'node:tty';
import { Exit, RunnerError, UsageError } from '../cli/errors.ts';

/** Whether this process has a controlling terminal (what runc's -t needs), as opening /dev/tty tells. */
export function hasControllingTerminal(): boolean {
  try {
    closeSync(openSync('/dev/tty', 'r+'));
    return true;
  } catch {
    return false;
  }
}

export interface AttachFlags {
  tty: boolean;
  interactive: boolean;
  detach: boolean;
  /** A restart policy other than "no". */
  restarts: boolean;
}

/** Refuses what cannot work before anything exists. `verb`: run or exec. */
export function checkAttachFlags(verb: 'run' | 'exec', f: AttachFlags, stdinIsTty = isatty(0), ctty = hasControllingTerminal): void {
  if (!f.tty) return;
  // -d -t: the monitor receives the pty from runc (a fresh one per restart); no terminal is needed here.
  if (f.detach) return;
  if (f.restarts) throw new UsageError('conflicting options: -t and --restart in the foreground (run it with -d, then tscni attach)');
  // docker's words and exit code for -it without a terminal on stdin.
  if (f.interactive && !stdinIsTty) throw new RunnerError('the input device is not a TTY', Exit.Failure);
  // run -t: the monitor keeps the pty and `run` attaches to it (output only without a terminal, as docker's);
  // exec -t: runc exec makes the pty on our own controlling terminal.
  if (verb === 'exec' && !ctty()) throw new RunnerError('exec -t needs a terminal: tscni has no controlling terminal (/dev/tty cannot be opened)', Exit.Failure);
}

