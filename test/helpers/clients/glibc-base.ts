// A minimal glibc base image for building the installer image offline: just the shared libraries the pinned
// Bun links against (from `ldd`), standing in for debian:12-slim in `podman build --from`.

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Writes the rootfs tarball for `runtimeBin`'s libraries into `work` and returns its path. */
export function glibcBaseTar(work: string, runtimeBin: string): string {
  const root = join(work, 'glibc-rootfs');
  for (const d of ['tmp', 'proc', 'sys', 'dev', 'etc']) mkdirSync(join(root, d), { recursive: true });
  const ldd = execFileSync('ldd', [runtimeBin], { encoding: 'utf8' });
  for (const m of ldd.matchAll(/(\/\S+\.so[.\d]*)/g)) {
    const lib = m[1];
    mkdirSync(join(root, dirname(lib)), { recursive: true });
    copyFileSync(lib, join(root, lib));
  }
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  const tar = join(work, 'glibc-base.tar');
  execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', tar, '.']);
  return tar;
}
