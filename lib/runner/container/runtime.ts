// The runtime seam: the only module that runs runc (or a runc-compatible runtime given with --runtime), through the
// process-exec seam (lib/exec/process.ts).

import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import { capture, start, type Child } from '../../exec/process.ts';

export interface RuntimeRef {
  /** runc binary (path or name on PATH). */
  binary: string;
  /** runc --root: where runc keeps its own container state. */
  root: string;
}

export interface RuntimeState {
  id: string;
  pid: number;
  status: string;
}

async function runcCapture(rt: RuntimeRef, args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await capture(rt.binary, ['--root', rt.root, ...args], { timeoutMs: 30_000 });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Why `binary` cannot be run, or undefined when it can: a path must be an executable file, a bare name must be
 * one on PATH (as exec would find it). Checked before anything is created, so a bad --runtime fails at once.
 */
export function runtimeProblem(binary: string, path = process.env.PATH ?? ''): string | undefined {
  if (binary.includes('/')) return executable(binary) ? undefined : `${binary} is not an executable file`;
  if (binary === '') return 'the runtime name is empty';
  const found = path.split(':').filter(Boolean).some((dir) => executable(join(dir, binary)));
  return found ? undefined : `${binary} is not an executable file on PATH (${path})`;
}

/**
 * Starts `runc run` in the foreground for `id` with the bundle at `bundle`. Its stdout/stderr (pipes) are the
 * container's: with terminal false runc passes its own stdio to the process; with terminal true (the bundle's
 * process.terminal) runc makes the pty, copies our stdin into it and its output to stdout, and needs a controlling
 * terminal (/dev/tty). `stdin`: 'ignore' (/dev/null), 'inherit' (ours: -i attached) or 'pipe' (kept open: -d -i).
 * The caller awaits the child: its exit is the container's.
 */
export function spawnRun(rt: RuntimeRef, id: string, bundle: string, logFile: string, pidFile: string, stdin: 'ignore' | 'inherit' | 'pipe' = 'ignore'): Promise<Child> {
  return start(rt.binary, ['--root', rt.root, '--log', logFile, '--log-format', 'json', 'run', '--pid-file', pidFile, '--bundle', bundle, id], {
    stdio: [stdin, 'pipe', 'pipe'],
  });
}

/**
 * `runc run -d --console-socket SOCK` for a detached -t run: runc makes the pty, sends its master to SOCK as
 * SCM_RIGHTS, starts the process and returns (the process is then the caller's, as a child subreaper).
 */
export function spawnRunDetached(rt: RuntimeRef, id: string, bundle: string, logFile: string, pidFile: string, consoleSocket: string): Promise<Child> {
  return start(rt.binary, ['--root', rt.root, '--log', logFile, '--log-format', 'json', 'run', '-d', '--console-socket', consoleSocket, '--pid-file', pidFile, '--bundle', bundle, id], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

/** runc state, or undefined when runc does not know the container. */
export async function state(rt: RuntimeRef, id: string): Promise<RuntimeState | undefined> {
  const r = await runcCapture(rt, ['state', id]);
  if (r.exitCode !== 0) return undefined;
  try {
    return JSON.parse(r.stdout) as RuntimeState;
  } catch {
    return undefined;
  }
}

export async function kill(rt: RuntimeRef, id: string, signal: string): Promise<boolean> {
  const r = await runcCapture(rt, ['kill', id, signal]);
  return r.exitCode === 0;
}

/** Forgets a container in runc (force: kills it first). Missing containers are fine. */
export async function remove(rt: RuntimeRef, id: string): Promise<void> {
  await runcCapture(rt, ['delete', '--force', id]);
}

/**
 * runc exec with the caller's stdio: -t allocates a pty that runc proxies itself (foreground, needs a controlling
 * terminal); stdin is ours only with -i (else /dev/null, as docker exec without -i).
 */
export function spawnExec(rt: RuntimeRef, id: string, argv: string[], opts: { tty: boolean; interactive: boolean; env?: string[]; cwd?: string }): Promise<Child> {
  const args = ['--root', rt.root, 'exec'];
  if (opts.tty) args.push('--tty');
  for (const e of opts.env ?? []) args.push('--env', e);
  if (opts.cwd) args.push('--cwd', opts.cwd);
  args.push(id, ...argv);
  return start(rt.binary, args, { stdio: [opts.interactive ? 'inherit' : 'ignore', 'inherit', 'inherit'] });
}
