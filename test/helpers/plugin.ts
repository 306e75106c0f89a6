// Runs a plugin executable exactly as a runtime does: env CNI_* + config on stdin, result or error JSON on stdout.

import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST_BIN = join(ROOT, 'dist/bin');
export const REF_BIN = '/usr/lib/cni';
export const ALL_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

export interface CallEnv {
  command: string;
  containerId?: string;
  netns?: string;
  ifname?: string;
  path?: string;
  args?: string;
  extra?: Record<string, string>;
}

export interface CallResult {
  code: number;
  stdout: string;
  stderr: string;
  json: any;
}

/** Execs `bin` (an absolute path, or a name under dist/bin) with a minimal environment, inside `hostNetns` if given. */
export function callPlugin(bin: string, env: CallEnv, stdin: unknown, opts: { hostNetns?: string; cwd?: string } = {}): Promise<CallResult> {
  const exe = bin.startsWith('/') ? bin : join(DIST_BIN, bin);
  const e: Record<string, string> = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', CNI_COMMAND: env.command };
  if (env.containerId !== undefined) e.CNI_CONTAINERID = env.containerId;
  if (env.netns !== undefined) e.CNI_NETNS = env.netns;
  if (env.ifname !== undefined) e.CNI_IFNAME = env.ifname;
  e.CNI_PATH = env.path ?? (bin.startsWith(REF_BIN) ? REF_BIN : DIST_BIN);
  if (env.args !== undefined) e.CNI_ARGS = env.args;
  Object.assign(e, env.extra);
  const argv = opts.hostNetns ? ['ip', ['netns', 'exec', opts.hostNetns, exe]] as const : [exe, []] as const;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(argv[0], [...argv[1]], { env: e, cwd: opts.cwd ?? '/', stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      let json: any;
      try {
        json = stdout.trim() ? JSON.parse(stdout) : undefined;
      } catch {
        json = undefined;
      }
      resolvePromise({ code: code ?? -1, stdout, stderr, json });
    });
    child.stdin.end(typeof stdin === 'string' ? stdin : JSON.stringify(stdin));
  });
}
