// Blobs: the config read into memory and layers streamed to a file, each hashed while it arrives and refused
// unless its sha256 and size are the ones the manifest names (the partial file is removed on any failure).

import { createHash } from 'node:crypto';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { RunnerError } from '../../cli/errors.ts';
import { IDLE_TIMEOUT_MS, registryError, type RegistryClient } from './client.ts';
import type { Descriptor } from './manifest.ts';

const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

/** Streams blob `d` to `file`; `progress(bytesSoFar)` after each chunk; `stop` aborts it (another layer failed). */
export async function downloadBlob(client: RegistryClient, d: Descriptor, file: string, progress: (n: number) => void, stop?: AbortSignal): Promise<void> {
  const abort = new AbortController();
  if (stop?.aborted) throw new RunnerError(`downloading blob ${d.digest} stopped: another layer failed`);
  stop?.addEventListener('abort', () => abort.abort(), { once: true });
  let idle = setTimeout(() => abort.abort(), IDLE_TIMEOUT_MS);
  const fd = openSync(file, 'wx', 0o600);
  let ok = false;
  try {
    const res = await client.get(`${client.repo}/blobs/${d.digest}`, [], abort.signal);
    if (!res.ok || !res.body) throw new RunnerError(`${client.registry} answered ${res.status} for blob ${d.digest}: ${await registryError(res)}`);
    const hash = createHash('sha256');
    let n = 0;
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        clearTimeout(idle);
        idle = setTimeout(() => abort.abort(), IDLE_TIMEOUT_MS);
        n += chunk.length;
        if (n > d.size) throw new RunnerError(`blob ${d.digest} is larger than the ${d.size} bytes the manifest says: refused`);
        hash.update(chunk);
        writeSync(fd, chunk);
        progress(n);
      }
    } catch (err) {
      if (err instanceof RunnerError) throw err;
      throw new RunnerError(`downloading blob ${d.digest} from ${client.registry} failed after ${n} of ${d.size} bytes: ${(err as Error).message}`, 1, { cause: err });
    }
    if (n !== d.size) throw new RunnerError(`blob ${d.digest} ended after ${n} of ${d.size} bytes: refused`);
    const got = `sha256:${hash.digest('hex')}`;
    if (got !== d.digest) throw new RunnerError(`blob ${d.digest} failed verification: its content has digest ${got}; nothing was stored`);
    ok = true;
  } finally {
    clearTimeout(idle);
    closeSync(fd);
    if (!ok) rmSync(file, { force: true });
  }
}

/** The image config blob, verified, as bytes. */
export async function fetchConfig(client: RegistryClient, d: Descriptor): Promise<Buffer> {
  if (d.size > MAX_CONFIG_BYTES) throw new RunnerError(`image config ${d.digest} is ${d.size} bytes: refused (at most ${MAX_CONFIG_BYTES})`);
  const res = await client.get(`${client.repo}/blobs/${d.digest}`);
  if (!res.ok) throw new RunnerError(`${client.registry} answered ${res.status} for config ${d.digest}: ${await registryError(res)}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  const got = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (got !== d.digest || bytes.length !== d.size) throw new RunnerError(`image config ${d.digest} failed verification: its content has digest ${got}`);
  return bytes;
}
