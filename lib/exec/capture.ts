// Runs a program (argv only, no shell) and captures its output: the few execa features the seams use, on
// node:child_process alone, because loading execa costs a CNI call 60-150 ms of start-up (bench/README.md).

import { spawn } from 'node:child_process';

export interface Captured {
  /** The exit code, or undefined when the program could not start or was killed by a signal. */
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** Why it did not exit by itself: a spawn error (ENOENT ...) or the timeout. */
  failure?: string;
}

export interface CaptureOptions {
  /** Written to stdin, which is then closed; stdin is /dev/null when absent. */
  input?: string;
  /** SIGTERM after this many ms (then SIGKILL 2 s later). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

const stripFinalNewline = (s: string) => (s.endsWith('\r\n') ? s.slice(0, -2) : s.endsWith('\n') ? s.slice(0, -1) : s);

/** Never rejects: a program that fails to start resolves with exitCode undefined and `failure` set. */
export function capture(file: string, args: readonly string[], opts: CaptureOptions = {}): Promise<Captured> {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(file, args, { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: opts.env });
    } catch (err) {
      resolve({ exitCode: undefined, stdout: '', stderr: '', failure: (err as Error).message });
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let failure: string | undefined;
    let killer: NodeJS.Timeout | undefined;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          failure = `timed out after ${opts.timeoutMs} ms`;
          child.kill('SIGTERM');
          killer = setTimeout(() => child.kill('SIGKILL'), 2000);
        }, opts.timeoutMs)
      : undefined;
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => (failure ??= e.message));
    child.on('close', (code) => {
      clearTimeout(timer);
      clearTimeout(killer);
      resolve({
        exitCode: code ?? undefined,
        stdout: stripFinalNewline(Buffer.concat(out).toString('utf8')),
        stderr: stripFinalNewline(Buffer.concat(err).toString('utf8')),
        failure,
      });
    });
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => {});
      child.stdin!.end(opts.input);
    }
  });
}
