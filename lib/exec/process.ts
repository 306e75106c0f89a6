// The process-exec seam: the only module that starts programs (execa, argv arrays only, never a shell).
// Short commands are captured (`capture`), long-lived ones are started and handed back (`start`).

import type { Options, ResultPromise } from 'execa';

export interface Captured {
  /** The exit code, or undefined when the program could not start or was killed by a signal. */
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** Why it did not exit by itself: a spawn error (ENOENT ...), a signal, or the timeout. */
  failure?: string;
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
}

// execa is loaded only when a call really runs a program (start-up cost: bench/README.md).
let loaded: typeof import('execa') | undefined;
async function execaModule(): Promise<typeof import('execa')> {
  loaded ??= await import('execa');
  return loaded;
}

const text = (v: unknown) => (typeof v === 'string' ? v : v === undefined ? '' : String(v));

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
    stripFinalNewline: true,
  } as Options);
  const exited = typeof r.exitCode === 'number' && !r.signal && !r.timedOut;
  return {
    exitCode: exited ? r.exitCode : undefined,
    stdout: text(r.stdout),
    stderr: text(r.stderr),
    failure: exited ? undefined : r.timedOut ? `timed out after ${opts.timeoutMs} ms` : r.signal ? `killed by ${r.signal}` : r.shortMessage,
  };
}

/** Like capture, but a non-zero exit or a failure to start throws `onError(message)`. Returns stdout. */
export async function captureOk(file: string, args: readonly string[], onError: (why: string) => Error, opts: CaptureOptions = {}): Promise<string> {
  const r = await capture(file, args, opts);
  if (r.exitCode === 0) return r.stdout;
  throw onError((r.failure ?? (r.stderr || r.stdout || `exit ${r.exitCode}`)).trim());
}

export type Child = ResultPromise;

/**
 * Starts a long-lived program (runc run, runc exec -t, a monitor) and returns execa's child: a ChildProcess that
 * is also a promise of its result. Rejections are off: callers read `exitCode`/`signal` from the awaited result.
 */
export async function start(file: string, args: readonly string[], opts: Options = {}): Promise<Child> {
  const { execa } = await execaModule();
  return execa(file, args, { reject: false, ...opts }) as Child;
}
