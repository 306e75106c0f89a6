// Execs another CNI plugin (IPAM delegation, the runner's chains): found on CNI_PATH, env + stdin in, JSON out.

import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { CniError, Code } from './errors.ts';

/** Finds the executable for plugin `type` on the given directories; `type` must be a plain file name. */
export function findPlugin(type: string, dirs: readonly string[]): string {
  if (!type || type.includes('/') || type === '.' || type === '..') {
    throw new CniError(Code.InvalidConfig, `invalid plugin type ${JSON.stringify(type)}: must be a plain executable name`);
  }
  for (const dir of dirs) {
    const p = join(dir, type);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // try the next directory
    }
  }
  throw new CniError(Code.InvalidConfig, `failed to find plugin ${JSON.stringify(type)} in path [${dirs.join(' ')}]`);
}

export interface ExecOutcome {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Runs a plugin executable with `env` (replacing CNI_* only) and `stdin`; throws its error JSON as a CniError. */
export function execPlugin(path: string, env: Record<string, string>, stdin: string, opts: { passStderr?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const fullEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('CNI_')) fullEnv[k] = v;
    Object.assign(fullEnv, env);
    const child = spawn(path, [], { env: fullEnv, stdio: ['pipe', 'pipe', opts.passStderr === false ? 'pipe' : 'inherit'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    child.on('error', (err) => reject(new CniError(Code.Io, `exec ${path}: ${err.message}`)));
    child.on('close', (code) => {
      if (code === 0) return resolve(stdout);
      let parsed: { code?: number; msg?: string; details?: string } | undefined;
      const text = stdout.trim() || stderr.trim();
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (parsed && typeof parsed.code === 'number') {
        return reject(new CniError(parsed.code, parsed.msg ?? '', parsed.details ?? ''));
      }
      reject(new CniError(Code.Internal, `plugin ${path} failed (exit ${code}): ${text || 'no output'}`));
    });
    child.stdin!.on('error', () => {});
    child.stdin!.end(stdin);
  });
}
