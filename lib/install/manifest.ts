// The install manifest: every path an install created (host paths), with content hashes and the backups of files
// it replaced, so an uninstall removes exactly that and nothing else.

import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Entry =
  /** generated: the installed plugins write into it (V8 code caches); uninstall empties it first. */
  | { kind: 'dir'; path: string; generated?: true }
  | { kind: 'file'; path: string; sha256: string; backup?: string }
  | { kind: 'symlink'; path: string; target: string; backup?: string };

export interface Manifest {
  tool: 'tscni';
  format: 1;
  installedAt: string;
  prefix: string;
  binDir: string;
  confDir: string;
  network?: string;
  entries: Entry[];
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A host path as seen from here: under --root (where the host's / is mounted). */
export const under = (root: string, p: string) => (root === '/' ? p : join(root, p));

export const manifestPath = (prefix: string) => join(prefix, 'manifest.json');

export function readManifest(root: string, prefix: string): Manifest | undefined {
  let text: string;
  try {
    text = readFileSync(under(root, manifestPath(prefix)), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const m = JSON.parse(text) as Manifest;
  if (m?.tool !== 'tscni' || m.format !== 1 || !Array.isArray(m.entries)) throw new Error(`${manifestPath(prefix)} is not a tscni install manifest`);
  for (const e of m.entries) {
    if (typeof e?.path !== 'string' || !e.path.startsWith('/') || e.path.split('/').includes('..')) throw new Error(`${manifestPath(prefix)}: bad entry ${JSON.stringify(e)}`);
  }
  return m;
}

export function writeManifest(root: string, m: Manifest): void {
  const p = under(root, manifestPath(m.prefix));
  writeFileSync(`${p}.tmp`, JSON.stringify(m, null, 2) + '\n', { mode: 0o644 });
  renameSync(`${p}.tmp`, p);
}
