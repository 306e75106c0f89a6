// A minimal glibc base image for building the installer image offline: the shared libraries the pinned Bun links
// against (from `ldd`), plus any `bins` copied from this machine with their libraries (the agent's `nft`) and, with
// `shell`, busybox as /bin/sh (for the Containerfile's RUN); it stands in for debian:12-slim in `podman build --from`.

import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

function libsOf(bin: string): string[] {
  let ldd: string;
  try {
    ldd = execFileSync('ldd', [bin], { encoding: 'utf8' });
  } catch {
    return []; // statically linked
  }
  return [...ldd.matchAll(/(\/\S+\.so[.\d]*)/g)].map((m) => m[1]);
}

function copyInto(root: string, path: string, mode?: number): void {
  mkdirSync(join(root, dirname(path)), { recursive: true });
  copyFileSync(path, join(root, path));
  if (mode !== undefined) chmodSync(join(root, path), mode);
}

/** Writes the rootfs tarball into `work` and returns its path. */
export function glibcBaseTar(work: string, runtimeBin: string, opts: { bins?: string[]; shell?: boolean } = {}): string {
  const root = join(work, 'glibc-rootfs');
  for (const d of ['tmp', 'proc', 'sys', 'dev', 'etc', 'bin']) mkdirSync(join(root, d), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  const libs = new Set([runtimeBin, ...(opts.bins ?? [])].flatMap(libsOf));
  for (const lib of libs) copyInto(root, lib);
  for (const bin of opts.bins ?? []) copyInto(root, bin, 0o755);
  if (opts.shell) {
    copyFileSync('/usr/bin/busybox', join(root, 'bin/busybox'));
    chmodSync(join(root, 'bin/busybox'), 0o755);
    symlinkSync('busybox', join(root, 'bin/sh'));
  }
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  const tar = join(work, 'glibc-base.tar');
  execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', tar, '.']);
  return tar;
}
