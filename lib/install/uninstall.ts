// `tscni uninstall`: removes exactly what the manifest records, restores the files an install replaced, and keeps
// (and names) anything changed since, unless --force.

import { lstatSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { movePath } from './move.ts';
import { manifestPath, readManifest, sha256, under, writeManifest, type Entry } from './manifest.ts';
import { parseUninstallArgs, UNINSTALL_USAGE, processIo, UsageError, type Io, type UninstallOptions } from './options.ts';

function kindOf(p: string): 'file' | 'symlink' | 'dir' | 'other' | undefined {
  try {
    const st = lstatSync(p);
    return st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
  } catch {
    return undefined;
  }
}

/** Is the thing at `p` still exactly what the install wrote? */
function unchanged(p: string, e: Entry): boolean {
  if (e.kind === 'symlink') return kindOf(p) === 'symlink' && readlinkSync(p) === e.target;
  if (e.kind === 'file') return kindOf(p) === 'file' && sha256(readFileSync(p)) === e.sha256;
  return kindOf(p) === 'dir';
}

/** Returns the recorded paths it kept (changed since install, or directories that hold foreign files). */
export function uninstall(o: UninstallOptions, log: (s: string) => void): string[] {
  const m = readManifest(o.root, o.prefix);
  if (!m) throw new Error(`nothing to uninstall: no ${manifestPath(o.prefix)}`);
  const kept: Entry[] = [];
  const entries = [...m.entries].reverse();
  for (const e of entries.filter((x) => x.kind !== 'dir')) {
    const p = under(o.root, e.path);
    const now = kindOf(p);
    if (now && !unchanged(p, e) && !o.force) {
      log(`tscni uninstall: keeping ${e.path}: changed since install (--force removes it)`);
      kept.push(e);
      continue;
    }
    if (now) rmSync(p, { force: true });
    if ('backup' in e && e.backup) {
      const b = under(o.root, e.backup);
      if (kindOf(b)) movePath(b, p);
      else log(`tscni uninstall: backup ${e.backup} of ${e.path} is gone; nothing to restore`);
    }
  }
  if (!kept.length) rmSync(under(o.root, manifestPath(o.prefix)), { force: true });
  for (const e of entries.filter((x) => x.kind === 'dir')) {
    const p = under(o.root, e.path);
    if (!kindOf(p)) continue;
    if (e.kind === 'dir' && e.generated) {
      for (const f of readdirSync(p)) if (kindOf(join(p, f)) === 'file') rmSync(join(p, f));
    }
    if (readdirSync(p).length) {
      log(`tscni uninstall: keeping directory ${e.path}: it holds files tscni did not install`);
      kept.push(e);
      continue;
    }
    rmdirSync(p);
  }
  if (kept.some((e) => e.kind !== 'dir')) writeManifest(o.root, { ...m, entries: m.entries.filter((e) => kept.includes(e)) });
  return kept.filter((e) => e.kind !== 'dir').map((e) => e.path);
}

/** `tscni uninstall [options]`: returns the exit code (0 ok, 1 failed or files kept, 2 usage). */
export async function runUninstall(argv: string[], io: Io = processIo): Promise<number> {
  let o: UninstallOptions;
  try {
    o = parseUninstallArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`tscni uninstall: ${err.message}\n${UNINSTALL_USAGE}`);
    return 2;
  }
  if (o.help) {
    io.out(UNINSTALL_USAGE);
    return 0;
  }
  try {
    const kept = uninstall(o, (s) => io.err(s + '\n'));
    if (kept.length) {
      io.err(`tscni uninstall: kept ${kept.length} changed files; ${manifestPath(o.prefix)} now lists only them\n`);
      return 1;
    }
    io.out(`tscni uninstall: removed everything recorded in ${manifestPath(o.prefix)}\n`);
    return 0;
  } catch (err) {
    io.err(`tscni uninstall: ${(err as Error).message}\n`);
    return 1;
  }
}
