// A pull's layers, up to three at once (docker's default max-concurrent-downloads). Each is downloaded to the
// staging directory, verified (its digest and size while it streams, then its diff_id), unpacked beside its place
// in the store and renamed into it. The first failure stops the rest: downloads in flight are aborted (their partial
// files removed) and no new one starts; it is reported once every layer in flight has settled, so the pull's
// cleanup never races a half-written file. A layer another worker finished stays: it is complete and verified.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { RunnerError } from '../../cli/errors.ts';
import { compressionOf, uncompressedDigest, unpackLayer } from '../layer-unpack.ts';
import { downloadBlob } from './blob.ts';
import type { RegistryClient } from './client.ts';
import type { Descriptor } from './manifest.ts';
import type { Progress } from './progress.ts';

export const MAX_CONCURRENT_DOWNLOADS = 3;

export interface LayerJob {
  descriptor: Descriptor;
  diffId: string;
  /** The layer's directory in the store. */
  dest: string;
}

async function fetchLayer(client: RegistryClient, job: LayerJob, staging: string, progress: Progress, signal: AbortSignal): Promise<void> {
  const d = job.descriptor;
  const compression = compressionOf(d.mediaType);
  const file = join(staging, d.digest.slice(7));
  try {
    await downloadBlob(client, d, file, (n) => progress.layer(d.digest, 'Downloading', n, d.size), signal);
    progress.layer(d.digest, 'Verifying Checksum');
    const got = await uncompressedDigest(file, compression);
    if (got !== job.diffId) throw new RunnerError(`layer ${d.digest} failed verification: its uncompressed content has digest ${got}, the config says ${job.diffId}`);
    progress.layer(d.digest, 'Extracting');
    await unpackLayer(file, job.dest, compression);
    progress.end(d.digest, 'Pull complete');
  } finally {
    rmSync(file, { force: true });
  }
}

/** Fetches `jobs` (distinct destinations) with at most `limit` in flight; throws the first failure. */
export async function fetchLayers(client: RegistryClient, jobs: readonly LayerJob[], staging: string, progress: Progress, limit = MAX_CONCURRENT_DOWNLOADS): Promise<void> {
  const abort = new AbortController();
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (!abort.signal.aborted && next < jobs.length) {
      const job = jobs[next++];
      try {
        await fetchLayer(client, job, staging, progress, abort.signal);
      } catch (err) {
        failure ??= { err };
        abort.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  if (failure) throw failure.err;
}
