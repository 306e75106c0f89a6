// Test images without a registry: a busybox rootfs tarball from Debian's busybox-static (for `podman import`) and
// the same rootfs as an OCI image archive (for `ctr image import`), both made with tar(1) under a temp dir.

import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PAGE = 'hello from tscni\n';
const APPLETS = ['sh', 'httpd', 'ip', 'sleep', 'cat', 'ls', 'wget', 'nc', 'hostname', 'ps', 'kill', 'true'];

function busybox(): string {
  const p = ['/bin/busybox', '/usr/bin/busybox'].find((c) => existsSync(c));
  if (!p) throw new Error('busybox not found: apt-get install busybox-static');
  return p;
}

/** Writes a minimal busybox rootfs (applet links, /etc/passwd, /www/index.html) into `dir`. */
export function writeRootfs(dir: string): void {
  for (const d of ['bin', 'etc', 'www', 'tmp', 'proc', 'sys', 'dev', 'root']) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o1777);
  copyFileSync(busybox(), join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  for (const a of APPLETS) symlinkSync('busybox', join(dir, 'bin', a));
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\n');
  writeFileSync(join(dir, 'www/index.html'), PAGE);
}

/** A rootfs tarball (what `podman import` takes). */
export function rootfsTar(work: string): string {
  const dir = join(work, 'rootfs');
  writeRootfs(dir);
  const tar = join(work, 'busybox-rootfs.tar');
  execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', dir, '-cf', tar, '.']);
  return tar;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** An OCI image layout archive named `ref` (what `ctr image import` takes); `cmd` is the image's default command, `extra` more config keys (ExposedPorts). */
export function ociArchive(work: string, ref: string, cmd: string[], extra: Record<string, unknown> = {}): string {
  const layer = readFileSync(rootfsTar(work));
  const layout = join(work, 'oci');
  mkdirSync(join(layout, 'blobs/sha256'), { recursive: true });
  const blob = (b: Buffer) => {
    const d = sha(b);
    writeFileSync(join(layout, 'blobs/sha256', d), b);
    return { digest: `sha256:${d}`, size: b.length };
  };
  const l = blob(layer);
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux',
    config: { Cmd: cmd, Env: ['PATH=/bin'], WorkingDir: '/', ...extra },
    rootfs: { type: 'layers', diff_ids: [l.digest] },
  }));
  const c = blob(config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...c },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...l }],
  }));
  const m = blob(manifest);
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(layout, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, platform: { architecture: 'amd64', os: 'linux' }, annotations: { 'org.opencontainers.image.ref.name': ref, 'io.containerd.image.name': ref } }],
  }));
  const out = join(work, 'busybox-oci.tar');
  execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', layout, '-cf', out, '.']);
  return out;
}
