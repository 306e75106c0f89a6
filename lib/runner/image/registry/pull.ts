// `tscni pull`: reference → manifest (an index resolved by platform) → config → layers. A layer already in the
// store (by diff_id, as `load` keys them) is not fetched again; new ones (up to three at once: layers.ts) are
// downloaded to images/.pull-PID-*, verified (compressed digest and size while streaming, then the diff_id),
// unpacked and renamed into place, so an interrupted pull leaves no layer a later run could use. The image is
// indexed last, under the lock.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Ctx } from '../../context.ts';
import { RunnerError } from '../../cli/errors.ts';
import { withLock } from '../../lock.ts';
import type { ImageConfig, ImageRecord } from '../image-store.ts';
import { sweepStale } from '../layer-unpack.ts';
import { fetchConfig } from './blob.ts';
import { fetchLayers, type LayerJob } from './layers.ts';
import { RegistryClient } from './client.ts';
import { credentialsFor } from './credentials.ts';
import { resolveManifest } from './manifest.ts';
import { progressFor } from './progress.ts';
import { displayReference, parseReference, type Platform } from './reference.ts';

export interface PullOptions {
  platform: Platform;
  quiet: boolean;
  /** Lines a user reads (Digest, Status); stdout for `pull`, stderr for `run`. */
  say: (s: string) => void;
}

function imageConfigFrom(config: any): ImageConfig {
  const c = config.config ?? {};
  return { Cmd: c.Cmd ?? undefined, Entrypoint: c.Entrypoint ?? undefined, Env: c.Env ?? undefined, WorkingDir: c.WorkingDir || undefined, ExposedPorts: c.ExposedPorts ?? undefined };
}

export async function pullImage(ctx: Ctx, refText: string, opts: PullOptions): Promise<ImageRecord> {
  const ref = parseReference(refText);
  const client = new RegistryClient(ref.registry, ref.apiHost, ref.repo, credentialsFor(ctx.paths.stateRoot, ref.registry));
  const manifest = await resolveManifest(client, ref, opts.platform);
  const configBytes = await fetchConfig(client, manifest.config);
  let config: any;
  try {
    config = JSON.parse(configBytes.toString('utf8'));
  } catch {
    throw new RunnerError(`image config ${manifest.config.digest} is not JSON`);
  }
  const diffIds: string[] = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length || diffIds.some((d) => !/^sha256:[a-f0-9]{64}$/.test(d))) {
    throw new RunnerError(`image config ${manifest.config.digest} lists ${diffIds.length} valid diff_ids for ${manifest.layers.length} layers`);
  }
  const progress = progressFor(opts.quiet);
  mkdirSync(ctx.images.root, { recursive: true, mode: 0o700 });
  sweepStale(ctx.images.root);
  const staging = mkdtempSync(join(ctx.images.root, `.pull-${process.pid}-`));
  // Ctrl-C: the download and any half-extracted layer go at once (a SIGKILL's are swept by the next pull or prune).
  const onSignal = () => {
    rmSync(staging, { recursive: true, force: true });
    sweepStale(ctx.images.root, process.pid);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let size = 0;
  // Every layer gets its line first, in the manifest's order; a layer listed twice is fetched once.
  const jobs: LayerJob[] = [];
  manifest.layers.forEach((d, i) => {
    const dest = ctx.images.layerDir(diffIds[i]);
    size += d.size;
    if (existsSync(dest)) progress.end(d.digest, 'Already exists');
    else if (!jobs.some((j) => j.dest === dest)) {
      jobs.push({ descriptor: d, diffId: diffIds[i], dest });
      progress.layer(d.digest, 'Pulling fs layer');
    }
  });
  try {
    await fetchLayers(client, jobs, staging, progress);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    rmSync(staging, { recursive: true, force: true });
  }
  const id = createHash('sha256').update(configBytes).digest('hex');
  const record: ImageRecord = {
    id,
    repo: ref.localRepo,
    tag: ref.tag ?? '<none>',
    digest: manifest.digest,
    layers: diffIds,
    config: imageConfigFrom(config),
    created: config.created ?? new Date().toISOString(),
    size,
  };
  const before = ctx.images.find(displayReference(ref));
  await withLock(ctx.images.lock, async () => {
    // An rmi or prune between the download and now may have taken a layer this image shares.
    for (const l of diffIds) if (!existsSync(ctx.images.layerDir(l))) throw new RunnerError(`layer ${l} was removed while pulling: pull again`);
    ctx.images.put(record);
  });
  opts.say(`Digest: ${manifest.digest}\n`);
  opts.say(before?.id === id ? `Status: Image is up to date for ${displayReference(ref)}\n` : `Status: Downloaded newer image for ${displayReference(ref)}\n`);
  return record;
}
