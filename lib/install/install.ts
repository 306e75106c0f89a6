// `tscni install`: validate options, plan the payload as data, then write it with an undo stack and a manifest.

import { chmodSync, existsSync, lstatSync, mkdirSync, readlinkSync, renameSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConflist, locateConflist, type Conflist } from './conflist.ts';
import { readPodCidrsFromNode } from './kube-api.ts';
import { sha256, under, writeManifest, readManifest, type Entry, type Manifest } from './manifest.ts';
import { INSTALL_USAGE, parseInstallArgs, processIo, UsageError, type Io, type InstallOptions } from './options.ts';
import { findSources, planPayload, readSource, type Item } from './payload.ts';
import { movePath } from './move.ts';
import { uninstall } from './uninstall.ts';
import { UndoStack } from '../util/undo.ts';

/** The checkout this code runs from: lib/install/*.ts and the bundle dist/bin/tscni both sit two levels down. */
const defaultSource = () => resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// Linux reads at most 255 bytes of a "#!" line (BINPRM_BUF_SIZE 256).
const MAX_SHEBANG = 255;

function lexists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Directories from / down to `dir` that do not exist yet (top-down): the install creates and records them. */
function missingDirs(root: string, dir: string, known: Set<string>): string[] {
  const chain: string[] = [];
  for (let d = dir; d !== '/' && !known.has(d) && !existsSync(under(root, d)); d = dirname(d)) chain.unshift(d);
  for (const d of chain) known.add(d);
  return chain;
}

/** Backups of replaced files live under PREFIX/backup with the same absolute path. */
const backupPath = (prefix: string, p: string) => join(prefix, 'backup', p);

export async function install(o: InstallOptions, log: (s: string) => void): Promise<Manifest> {
  const source = o.source ?? defaultSource();
  if (!existsSync(o.root)) throw new Error(`--root ${o.root} does not exist`);
  const src = findSources(source, o.plugins);
  if (`#!${o.prefix}/bun`.length > MAX_SHEBANG) throw new Error(`--prefix ${o.prefix} is too long for a "#!" line (max ${MAX_SHEBANG - 7} bytes)`);
  const typesInstalled = Object.keys(src.bundles).filter((n) => n !== 'tscni');
  let conflist: Conflist | undefined;
  if (!o.noConflist) {
    const cidrs = o.podCidrFromNode ? await readPodCidrsFromNode(o.podCidrFromNode, o.serviceAccountDir) : o.podCidrs;
    conflist = loadConflist(locateConflist(source, o.conflist), typesInstalled, cidrs, o.cniVersion);
    if (JSON.parse(conflist.text).cniVersion === '1.1.0') {
      log('tscni install: note: the conflist says cniVersion 1.1.0; runtimes on libcni 1.1 (e.g. containerd 1.6, podman 4.3) reject 1.1.0 results: pass --cni-version 1.0.0 for them');
    }
  }
  const items = planPayload(o, src, conflist);

  if (readManifest(o.root, o.prefix)) {
    log(`tscni install: replacing the previous install recorded in ${o.prefix}/manifest.json`);
    const left = uninstall({ prefix: o.prefix, root: o.root, force: false, help: false }, log);
    if (left.length) throw new Error(`the previous install left changed files behind (${left.join(', ')}): run tscni uninstall --force first`);
  }
  const foreign = items.filter((i) => lexists(under(o.root, i.path))).map((i) => i.path);
  if (foreign.length && !o.replace) {
    throw new Error(`refusing to overwrite files tscni did not install: ${foreign.join(', ')} (pass --replace to back them up and restore them on uninstall)`);
  }

  const manifest: Manifest = {
    tool: 'tscni', format: 1, installedAt: new Date().toISOString(), prefix: o.prefix, binDir: o.binDir, confDir: o.confDir,
    network: conflist?.network, entries: [],
  };
  const undo = new UndoStack();
  const known = new Set<string>();
  const mkdirs = (dir: string) => {
    for (const d of missingDirs(o.root, dir, known)) {
      mkdirSync(under(o.root, d));
      chmodSync(under(o.root, d), 0o755);
      undo.push(`directory ${d}`, () => rmdirSync(under(o.root, d)));
      manifest.entries.push({ kind: 'dir', path: d });
    }
  };
  try {
    mkdirs(o.prefix);
    for (const item of items) {
      mkdirs(dirname(item.path));
      const dest = under(o.root, item.path);
      let backup: string | undefined;
      if (lexists(dest)) {
        backup = backupPath(o.prefix, item.path);
        mkdirs(dirname(backup));
        movePath(dest, under(o.root, backup));
        const b = backup;
        undo.push(`backup of ${item.path}`, () => movePath(under(o.root, b), dest));
      }
      manifest.entries.push(writeItem(o.root, item, backup));
      undo.push(item.path, () => rmSync(dest, { force: true }));
    }
    writeManifest(o.root, manifest);
  } catch (err) {
    // Every step is undone even when one fails; the install's own error is the one reported.
    await undo.unwind();
    throw err;
  }
  return manifest;
}

/** Writes one item atomically (temp file + rename) and returns its manifest entry. */
function writeItem(root: string, item: Item, backup: string | undefined): Entry {
  const dest = under(root, item.path);
  const tmp = `${dest}.tscni-tmp`;
  rmSync(tmp, { force: true });
  if (item.kind === 'symlink') {
    symlinkSync(item.target, tmp);
    renameSync(tmp, dest);
    if (readlinkSync(dest) !== item.target) throw new Error(`${item.path}: symlink did not take`);
    return { kind: 'symlink', path: item.path, target: item.target, ...(backup ? { backup } : {}) };
  }
  const data = readSource(item);
  writeFileSync(tmp, data);
  chmodSync(tmp, item.mode); // exact modes whatever the umask
  renameSync(tmp, dest);
  return { kind: 'file', path: item.path, sha256: sha256(data), ...(backup ? { backup } : {}) };
}

/** `tscni install [options]`: returns the exit code (0 ok, 1 failed, 2 usage). */
export async function runInstall(argv: string[], io: Io = processIo): Promise<number> {
  let o: InstallOptions;
  try {
    o = parseInstallArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`tscni install: ${err.message}\n${INSTALL_USAGE}`);
    return 2;
  }
  if (o.help) {
    io.out(INSTALL_USAGE);
    return 0;
  }
  try {
    const m = await install(o, (s) => io.err(s + '\n'));
    const files = m.entries.filter((e) => e.kind !== 'dir').length;
    io.out(`tscni install: ${files} files under ${o.prefix}; plugins linked in ${o.binDir}${m.network ? `; network ${m.network} in ${o.confDir}` : ''}; manifest ${o.prefix}/manifest.json\n`);
    return 0;
  } catch (err) {
    io.err(`tscni install: ${(err as Error).message}\n`);
    return 1;
  }
}
