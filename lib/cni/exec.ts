// Execs another CNI plugin (IPAM delegation, the runner's chains): found on CNI_PATH, env + stdin in, JSON out.

import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { capture } from '../exec/process.ts';
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
export async function execPlugin(path: string, env: Record<string, string>, stdin: string, opts: { passStderr?: boolean } = {}): Promise<string> {
  const fullEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('CNI_')) fullEnv[k] = v;
  Object.assign(fullEnv, env);
  const r = await capture(path, [], { input: stdin, env: fullEnv, replaceEnv: true, inheritStderr: opts.passStderr !== false, keepFinalNewline: true });
  if (r.exitCode === 0) return r.stdout;
  if (r.startError !== undefined) throw new CniError(Code.Io, `exec ${path}: ${r.startError}`);
  let parsed: { code?: number; msg?: string; details?: string } | undefined;
  const text = r.stdout.trim() || r.stderr.trim();
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (parsed && typeof parsed.code === 'number') throw new CniError(parsed.code, parsed.msg ?? '', parsed.details ?? '');
  throw new CniError(Code.Internal, `plugin ${path} failed (exit ${r.exitCode ?? null}): ${text || 'no output'}`);
}
