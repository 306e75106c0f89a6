// The process-exec seam: the only module that starts programs (execa, argv arrays only, never a shell).
// Short commands are captured (`capture`), long-lived ones are started and handed back (`start`).

import type { Readable, Writable } from 'node:stream';
import type { Options, ResultPromise } from 'execa';

export interface Captured {
  /** The exit code, or undefined when the program could not start or was killed by a signal. */
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** Why it did not exit by itself: a spawn error (ENOENT ...), a signal, or the timeout. */
  failure?: string;
  /** The system's own words when the program could not be started at all (`spawn /x ENOENT`). */
  startError?: string;
}

export interface CaptureOptions {
  /** Written to stdin, which is then closed; stdin is /dev/null when absent. */
  input?: string;
  /** SIGTERM after this many ms (then SIGKILL 2 s later). */
  timeoutMs?: number;
  /** The whole environment when `replaceEnv`, else added to this process's. */
  env?: Record<string, string | undefined>;
  replaceEnv?: boolean;
  cwd?: string;
  /** Pass the child's stderr through to ours instead of capturing it. */
  inheritStderr?: boolean;
  /** Keep stdout's final newline (a protocol's bytes, e.g. a CNI plugin's result, are handed on as written). */
  keepFinalNewline?: boolean;
}

// execa is loaded only when a call really runs a program (start-up cost: bench/README.md).
let loaded: typeof import('execa') | undefined;
async function execaModule(): Promise<typeof import('execa')> {
  loaded ??= await import('execa');
  return loaded;
}

const text = (v: unknown) => (typeof v === 'string' ? v : v === undefined ? '' : String(v));

/**
 * Why a program could not be started, in Node's words (`spawn /x ENOENT`) on both runtimes: Bun says
 * `ENOENT: no such file or directory, posix_spawn '/x'` for the same failure.
 */
function spawnFailure(file: string, cause: unknown, fallback: string | undefined): string {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return `spawn ${file} ${code}`;
  return cause instanceof Error ? cause.message : fallback ?? `spawn ${file} failed`;
}

/** Runs `file args` to completion and captures its output. Never rejects: failures are in the result. */
export async function capture(file: string, args: readonly string[], opts: CaptureOptions = {}): Promise<Captured> {
  const { execa } = await execaModule();
  const r = await execa(file, args, {
    input: opts.input,
    stdin: opts.input === undefined ? 'ignore' : 'pipe',
    stderr: opts.inheritStderr ? 'inherit' : 'pipe',
    env: opts.env,
    extendEnv: !opts.replaceEnv,
    cwd: opts.cwd,
    timeout: opts.timeoutMs,
    forceKillAfterDelay: 2000,
    reject: false,
    stripFinalNewline: !opts.keepFinalNewline,
  } as Options);
  const exited = typeof r.exitCode === 'number' && !r.signal && !r.timedOut;
  const notStarted = !exited && !r.signal && !r.timedOut;
  return {
    exitCode: exited ? r.exitCode : undefined,
    stdout: text(r.stdout),
    stderr: text(r.stderr),
    failure: exited ? undefined : r.timedOut ? `timed out after ${opts.timeoutMs} ms` : r.signal ? `killed by ${r.signal}` : r.shortMessage,
    startError: notStarted ? spawnFailure(file, r.cause, r.shortMessage) : undefined,
  };
}

/** Like capture, but a non-zero exit or a failure to start throws `onError(message)`. Returns stdout. */
export async function captureOk(file: string, args: readonly string[], onError: (why: string) => Error, opts: CaptureOptions = {}): Promise<string> {
  const r = await capture(file, args, opts);
  if (r.exitCode === 0) return r.stdout;
  throw onError((r.failure ?? (r.stderr || r.stdout || `exit ${r.exitCode}`)).trim());
}

/** How a started program ended. */
export interface Ended {
  /** The exit code, or undefined when it was killed by a signal or could not start. */
  exitCode: number | undefined;
  signal?: string;
  /** The system's own words when the program could not be started at all (`spawn /x ENOENT`). */
  startError?: string;
}

/** A started program. (Not execa's child itself: a thenable returned from an async function would be awaited.) */
export interface Child {
  pid: number | undefined;
  /** The streams, when started with 'pipe' for them. */
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
  /** Stops this process from waiting for the child (a detached monitor). */
  unref(): void;
  /** Settles when the program ends; never rejects. */
  ended: Promise<Ended>;
}

export interface StartOptions {
  /**
   * 'inherit': the child shares our terminal (runc exec -t). Otherwise [stdin, stdout, stderr]: 'ignore', 'inherit'
   * (ours), 'pipe' (write `stdin`, read `stdout`/`stderr` as streams; nothing is buffered) or an open file descriptor.
   */
  stdio?: 'inherit' | ['ignore' | 'inherit' | 'pipe', 'pipe' | 'inherit' | number, 'pipe' | 'inherit' | number];
  /** Its own process group, outliving us (call `unref()` to stop waiting for it). */
  detached?: boolean;
}

/**
 * Starts a long-lived program (runc run, runc exec -t, the container monitor) and hands it back at once.
 * Like a plain spawn, the child is not killed when this process exits.
 */
export async function start(file: string, args: readonly string[], opts: StartOptions = {}): Promise<Child> {
  const { execa } = await execaModule();
  const [stdin, stdout, stderr] = opts.stdio === 'inherit' ? ['inherit', 'inherit', 'inherit'] : opts.stdio ?? ['ignore', 'pipe', 'pipe'];
  const child = execa(file, args, { stdin, stdout, stderr, detached: opts.detached, reject: false, cleanup: false, buffer: false } as Options) as ResultPromise;
  const ended = child.then((r) => {
    const exited = typeof r.exitCode === 'number' && !r.signal;
    const startError = !exited && !r.signal ? spawnFailure(file, r.cause, r.shortMessage) : undefined;
    return { exitCode: exited ? r.exitCode : undefined, signal: r.signal, startError };
  });
  return { pid: child.pid, stdin: child.stdin, stdout: child.stdout, stderr: child.stderr, unref: () => child.unref(), ended };
}
