// Image commands: images, rmi, load, image build-busybox|ls|rm|load|pull|prune, and the registry ones: pull, login, logout.

import { parseArgs, bool, str } from './args/argv.ts';
import { pullImage } from '../image/registry/pull.ts';
import { displayReference, parsePlatform, parseReference } from '../image/registry/reference.ts';
import { RegistryClient } from '../image/registry/client.ts';
import { removeCredentials, saveCredentials } from '../image/registry/credentials.ts';
import { buildBusybox } from '../image/busybox-image.ts';
import type { Ctx } from '../context.ts';
import { Exit, UsageError, conflict } from './errors.ts';
import { HELP, printHelpIfAsked } from './help.ts';
import { ago, humanSize, table } from './args/table.ts';
import { NONE } from '../image/image-store.ts';
import { sweepStale } from '../image/layer-unpack.ts';
import { withLock } from '../lock.ts';

type Out = (s: string) => void;

export async function images(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, { bools: ['json', 'quiet'], aliases: { q: 'quiet' } }, 'images');
  if (printHelpIfAsked('images', p, out)) return Exit.Ok;
  const list = ctx.images.list();
  if (bool(p, 'json')) out(JSON.stringify(list, null, 2) + '\n');
  else if (bool(p, 'quiet')) for (const i of list) out(i.id.slice(0, 12) + '\n');
  else out(table(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], list.map((i) => [i.repo, i.tag, i.id.slice(0, 12), ago(i.created), humanSize(i.size)])));
  return Exit.Ok;
}

export async function rmi(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, { bools: ['force'], aliases: { f: 'force' } }, 'rmi');
  if (printHelpIfAsked('rmi', p, out)) return Exit.Ok;
  if (p.positionals.length === 0) throw new UsageError('rmi: at least one image is required');
  for (const r of p.positionals) {
    const img = ctx.images.get(r);
    const users = ctx.containers.all().filter((c) => c.imageId === img.id);
    if (users.length) throw conflict(`image ${r} is in use by container(s) ${users.map((c) => c.name).join(', ')}`);
    await withLock(ctx.images.lock, async () => ctx.images.remove(r));
    out(`Untagged: ${img.tag === NONE && img.digest ? `${img.repo}@${img.digest}` : `${img.repo}:${img.tag}`}\n`);
  }
  return Exit.Ok;
}

export async function image(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'build-busybox') {
    const img = await buildBusybox(ctx.images);
    out(`built ${img.repo}:${img.tag} ${img.id.slice(0, 12)}\n`);
    return Exit.Ok;
  }
  if (sub === 'ls') return images(ctx, rest, out);
  if (sub === 'rm') return rmi(ctx, rest, out);
  if (sub === 'load') return load(ctx, rest, out);
  if (sub === 'pull') return pull(ctx, rest, out);
  if (sub === 'prune') return prune(ctx, rest, out);
  out(HELP.image + '\n');
  return sub === undefined || sub === '--help' || sub === '-h' ? Exit.Ok : Exit.Usage;
}

export async function load(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, { values: ['input'], bools: ['quiet'], aliases: { i: 'input', q: 'quiet' } }, 'load');
  if (printHelpIfAsked('load', p, out)) return Exit.Ok;
  const file = str(p, 'input') ?? p.positionals[0];
  if (!file) throw new UsageError('load: an archive FILE is required');
  await (await import('../image/load.ts')).loadArchive(ctx, file, bool(p, 'quiet'), out);
  return Exit.Ok;
}

/** `image prune`: <none> images no container uses, layers no image names, leftovers of killed pulls. */
export async function prune(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const p = parseArgs(argv, { bools: ['force', 'all'], aliases: { f: 'force', a: 'all' } }, 'image prune');
  if (p.flags.help === true) {
    out(HELP.image + '\n');
    return Exit.Ok;
  }
  if (bool(p, 'all')) throw new UsageError('image prune: --all is not supported (remove tagged images with rmi)');
  const used = new Set(ctx.containers.all().map((c) => c.imageId));
  const r = await withLock(ctx.images.lock, async () => {
    const stale = sweepStale(ctx.images.root);
    return { ...ctx.images.prune((i) => used.has(i.id)), stale };
  });
  for (const i of r.images) out(`Deleted: sha256:${i.id}\n`);
  for (const l of r.layers) out(`Deleted layer: ${l.split('/').pop()!.replace('-', ':')}\n`);
  out(`Removed ${r.images.length} image(s), ${r.layers.length} layer(s), ${r.stale.length} interrupted download(s)\n`);
  return Exit.Ok;
}

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
