// Registry commands: `tscni pull [-q] [--platform OS/ARCH] REF`, `tscni login`, `tscni logout`.

import { parseArgs, bool, str } from './argv.ts';
import type { Ctx } from '../context.ts';
import { Exit, UsageError } from './errors.ts';
import { printHelpIfAsked } from './help.ts';
import { pullImage } from '../image/registry/pull.ts';
import { displayReference, parsePlatform, parseReference } from '../image/registry/reference.ts';
import { RegistryClient } from '../image/registry/client.ts';
import { removeCredentials, saveCredentials } from '../image/registry/credentials.ts';

type Out = (s: string) => void;

export async function pull(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, { bools: ['quiet'], values: ['platform'], aliases: { q: 'quiet' } }, 'pull');
  if (printHelpIfAsked('pull', p, out)) return Exit.Ok;
  if (p.positionals.length !== 1) throw new UsageError('pull: exactly one image reference is required');
  const ref = parseReference(p.positionals[0]);
  const platform = parsePlatform(str(p, 'platform'));
  const quiet = bool(p, 'quiet');
  await pullImage(ctx, p.positionals[0], { platform, quiet, say: quiet ? () => undefined : out });
  out(`${displayReference(ref)}\n`);
  return Exit.Ok;
}

async function readStdin(): Promise<string> {
  let s = '';
  for await (const chunk of process.stdin) s += chunk;
  return s.replace(/\r?\n$/, '');
}

/** A registry argument: a host (with port), or docker.io when absent. */
function registryArg(arg: string | undefined): string {
  const r = (arg ?? 'docker.io').replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (!/^[a-zA-Z0-9.-]+(?::\d{1,5})?$|^\[[0-9a-fA-F:]+\](?::\d{1,5})?$/.test(r)) throw new UsageError(`invalid registry ${JSON.stringify(arg)}: expected HOST[:PORT]`);
  return r;
}

export async function login(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, { bools: ['password-stdin'], values: ['username', 'password'], aliases: { u: 'username', p: 'password' } }, 'login');
  if (printHelpIfAsked('login', p, out)) return Exit.Ok;
  if (p.positionals.length > 1) throw new UsageError('login: at most one registry');
  const registry = registryArg(p.positionals[0]);
  const username = str(p, 'username');
  if (!username) throw new UsageError('login: --username is required (no interactive prompt)');
  if (bool(p, 'password-stdin') && str(p, 'password') !== undefined) throw new UsageError('login: --password and --password-stdin are exclusive');
  const password = bool(p, 'password-stdin') ? await readStdin() : str(p, 'password');
  if (!password) throw new UsageError('login: a password is required (--password-stdin or -p)');
  const creds = { username, password };
  await new RegistryClient(registry, registry === 'docker.io' ? 'registry-1.docker.io' : registry, '', creds).ping();
  saveCredentials(ctx.paths.stateRoot, registry, creds);
  out('Login Succeeded\n');
  return Exit.Ok;
}

export async function logout(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, {}, 'logout');
  if (printHelpIfAsked('logout', p, out)) return Exit.Ok;
  const registry = registryArg(p.positionals[0]);
  out(removeCredentials(ctx.paths.stateRoot, registry) ? `Removing login credentials for ${registry}\n` : `Not logged in to ${registry}\n`);
  return Exit.Ok;
}
