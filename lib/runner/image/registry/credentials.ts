// `tscni login` credentials: <stateRoot>/auth.json in docker's config.json shape ({"auths": {HOST: {"auth":
// base64(user:password)}}}), written atomically with mode 0600 (it holds passwords).

import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunnerError } from '../../cli/errors.ts';

export interface Credentials {
  username: string;
  password: string;
}

interface AuthFile {
  auths: Record<string, { auth: string }>;
}

export const authFile = (stateRoot: string) => join(stateRoot, 'auth.json');

function read(stateRoot: string): AuthFile {
  const p = authFile(stateRoot);
  if (!existsSync(p)) return { auths: {} };
  try {
    const data = JSON.parse(readFileSync(p, 'utf8'));
    return { auths: typeof data?.auths === 'object' && data.auths ? data.auths : {} };
  } catch (err) {
    throw new RunnerError(`cannot read ${p}: ${(err as Error).message}`);
  }
}

function write(stateRoot: string, data: AuthFile): void {
  mkdirSync(stateRoot, { recursive: true, mode: 0o700 });
  const p = authFile(stateRoot);
  const tmp = `${p}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, p);
}

export function credentialsFor(stateRoot: string, registry: string): Credentials | undefined {
  const entry = read(stateRoot).auths[registry];
  if (!entry?.auth) return undefined;
  const text = Buffer.from(entry.auth, 'base64').toString('utf8');
  const i = text.indexOf(':');
  return i < 0 ? undefined : { username: text.slice(0, i), password: text.slice(i + 1) };
}

export function saveCredentials(stateRoot: string, registry: string, c: Credentials): void {
  const data = read(stateRoot);
  data.auths[registry] = { auth: Buffer.from(`${c.username}:${c.password}`).toString('base64') };
  write(stateRoot, data);
}

/** Forgets a registry's credentials; says whether there were any. */
export function removeCredentials(stateRoot: string, registry: string): boolean {
  const data = read(stateRoot);
  if (!data.auths[registry]) return false;
  delete data.auths[registry];
  write(stateRoot, data);
  return true;
}
