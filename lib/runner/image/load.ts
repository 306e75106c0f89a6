// Loading an image archive (`tscni load FILE`): unpacks an OCI image archive (podman save --format oci-archive) or a docker-archive
// (docker save / podman save) into layer directories (whiteouts converted for overlayfs) and indexes the image.

import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Ctx } from '../context.ts';
import { Exit, RunnerError } from '../cli/errors.ts';
import { splitRef, type ImageConfig, type ImageRecord } from './image-store.ts';
import { withLock } from '../lock.ts';
import { humanSize } from '../cli/args/table.ts';
import { capture } from '../../exec/process.ts';
import { unpackLayer } from './layer-unpack.ts';

interface Loaded {
  refs: string[];
  configBytes: Buffer;
  layerFiles: string[];
}

async function tar(args: string[]): Promise<void> {
  const r = await capture('tar', args);
  if (r.exitCode !== 0) throw new RunnerError(`tar ${args.join(' ')}: ${r.stderr.trim()}`);
}

function readJson(path: string, what: string): any {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new RunnerError(`not an image archive: cannot read ${what} (${(err as Error).message})`);
  }
}

function blobPath(dir: string, digest: string): string {
  const [alg, hex] = String(digest).split(':');
  if (!/^[a-z0-9]+$/.test(alg ?? '') || !/^[a-f0-9]+$/.test(hex ?? '')) throw new RunnerError(`invalid digest ${JSON.stringify(digest)} in the archive`);
  return join(dir, 'blobs', alg, hex);
}

/** docker-archive: manifest.json lists Config, RepoTags and Layers (paths inside the archive). */
function fromDocker(dir: string): Loaded[] {
  const manifest = readJson(join(dir, 'manifest.json'), 'manifest.json');
  if (!Array.isArray(manifest)) throw new RunnerError('not an image archive: manifest.json is not a list');
  return manifest.map((m: any) => ({
    refs: Array.isArray(m.RepoTags) ? m.RepoTags : [],
    configBytes: readFileSync(join(dir, safeRel(m.Config))),
    layerFiles: (m.Layers ?? []).map((l: string) => join(dir, safeRel(l))),
  }));
}

/** OCI image layout: index.json → manifests → config + layer blobs; the ref name annotation gives the tag. */
function fromOci(dir: string): Loaded[] {
  const index = readJson(join(dir, 'index.json'), 'index.json');
  const out: Loaded[] = [];
  const walk = (desc: any, ref: string | undefined) => {
    const doc = readJson(blobPath(dir, desc.digest), `blob ${desc.digest}`);
    if (Array.isArray(doc.manifests)) {
      const linux = doc.manifests.find((m: any) => !m.platform || (m.platform.os === 'linux' && m.platform.architecture === 'amd64')) ?? doc.manifests[0];
      walk(linux, ref);
      return;
    }
    out.push({ refs: ref ? [ref] : [], configBytes: readFileSync(blobPath(dir, doc.config.digest)), layerFiles: (doc.layers ?? []).map((l: any) => blobPath(dir, l.digest)) });
  };
  for (const m of index.manifests ?? []) walk(m, m.annotations?.['org.opencontainers.image.ref.name'] ?? m.annotations?.['io.containerd.image.name']);
  return out;
}

function safeRel(p: unknown): string {
  if (typeof p !== 'string' || p.startsWith('/') || p.split('/').includes('..')) throw new RunnerError(`unsafe path ${JSON.stringify(p)} in the archive`);
  return p;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Loads every image in the archive `file`; progress lines go to stderr unless `quiet`, `Loaded image: ...` to out. */
export async function loadArchive(ctx: Ctx, file: string, quiet: boolean, out: (s: string) => void): Promise<void> {
  if (!existsSync(file)) throw new RunnerError(`no such file: ${file}`, Exit.NotFound);
  const tty = process.stderr.isTTY;
  const progress = (s: string) => {
    if (quiet) return;
    process.stderr.write(tty ? `\r\x1b[K${s}` : `${s}\n`);
  };
  mkdirSync(ctx.images.root, { recursive: true });
  const staging = mkdtempSync(join(ctx.images.root, '.load-'));
  try {
    progress(`Unpacking ${file} (${humanSize(statSync(file).size)})`);
    await tar(['-xf', file, '-C', staging]);
    const images = existsSync(join(staging, 'index.json')) ? fromOci(staging) : existsSync(join(staging, 'manifest.json')) ? fromDocker(staging) : undefined;
    if (!images || images.length === 0) throw new RunnerError(`${file} is neither an OCI archive (index.json) nor a docker archive (manifest.json)`);
    for (const img of images) {
      const config = JSON.parse(img.configBytes.toString('utf8'));
      const diffIds: string[] = config.rootfs?.diff_ids ?? [];
      const layers: string[] = [];
      let size = 0;
      for (let i = 0; i < img.layerFiles.length; i++) {
        const lf = img.layerFiles[i];
        const digest = diffIds[i] ?? `sha256:${await sha256File(lf)}`;
        const dest = ctx.images.layerDir(digest);
        const bytes = statSync(lf).size;
        size += bytes;
        progress(`Loading layer ${i + 1}/${img.layerFiles.length} ${digest.slice(7, 19)} [${'#'.repeat(Math.round(((i + 1) / img.layerFiles.length) * 20)).padEnd(20)}] ${humanSize(bytes)}`);
        await unpackLayer(lf, dest, 'none');
        layers.push(digest);
      }
      const id = createHash('sha256').update(img.configBytes).digest('hex');
      const c = config.config ?? {};
      const imgConfig: ImageConfig = { Cmd: c.Cmd ?? undefined, Entrypoint: c.Entrypoint ?? undefined, Env: c.Env ?? undefined, WorkingDir: c.WorkingDir || undefined, ExposedPorts: c.ExposedPorts ?? undefined };
      const refs = img.refs.length ? img.refs : [`sha256-${id.slice(0, 12)}:latest`];
      await withLock(ctx.images.lock, async () => {
        for (const ref of refs) {
          const { repo, tag } = splitRef(ref.includes(':') || ref.includes('/') ? ref : `${ref}:latest`);
          const rec: ImageRecord = { id, repo, tag, layers, config: imgConfig, created: config.created ?? new Date().toISOString(), size };
          ctx.images.put(rec);
        }
      });
      if (tty && !quiet) process.stderr.write('\r\x1b[K');
      out(`Loaded image: ${refs.join(', ')}\n`);
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
