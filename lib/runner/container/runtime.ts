// The runtime seam: the only module that execs runc (or a runc-compatible runtime given with --runtime).

import { spawn, type ChildProcess } from 'node:child_process';

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
  const { execa } = await import('execa');
  const r = await execa(rt.binary, ['--root', rt.root, ...args], { reject: false, timeout: 30_000 });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/**
 * Starts `runc run` in the foreground for `id` with the bundle at `bundle`. Its stdout/stderr are the container's
 * (terminal false: runc passes its own stdio to the process). The caller waits for its exit: that is the container's.
 */
export function spawnRun(rt: RuntimeRef, id: string, bundle: string, logFile: string, pidFile: string): ChildProcess {
  return spawn(rt.binary, ['--root', rt.root, '--log', logFile, '--log-format', 'json', 'run', '--pid-file', pidFile, '--bundle', bundle, id], {
    stdio: ['ignore', 'pipe', 'pipe'],
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

/** runc exec with the caller's terminal: -t allocates a pty that runc proxies itself (foreground). */
export function spawnExec(rt: RuntimeRef, id: string, argv: string[], opts: { tty: boolean; env?: string[]; cwd?: string }): ChildProcess {
  const args = ['--root', rt.root, 'exec'];
  if (opts.tty) args.push('--tty');
  for (const e of opts.env ?? []) args.push('--env', e);
  if (opts.cwd) args.push('--cwd', opts.cwd);
  args.push(id, ...argv);
  return spawn(rt.binary, args, { stdio: 'inherit' });
}
