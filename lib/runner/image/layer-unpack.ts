// Unpacking a layer tarball into the store: extracted beside its final place, whiteouts converted for overlayfs,
// checked, then renamed into layers/<digest> in one step, so a layer directory is always complete. Shared by
// `load` (archives) and `pull` (registries); leftovers of a killed unpack are swept by `sweepStale`.

import { createReadStream, existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import * as zlib from 'node:zlib';
import { RunnerError } from '../cli/errors.ts';
import { capture } from '../../exec/process.ts';

export type Compression = 'none' | 'gzip' | 'zstd';

export function compressionOf(mediaType: string): Compression {
  if (/tar\+gzip$|tar\.gzip$|rootfs\.diff\.tar\.gzip$/.test(mediaType)) return 'gzip';
  if (/tar\+zstd$/.test(mediaType)) return 'zstd';
  if (/\.tar$|tar$/.test(mediaType)) return 'none';
  throw new RunnerError(`unsupported layer media type ${JSON.stringify(mediaType)}`);
}

/** Turns OCI whiteouts into overlayfs ones: `.wh.NAME` → a 0/0 char device NAME; opaque markers are dropped. */
export async function convertWhiteouts(dir: string): Promise<number> {
  let n = 0;
  const walk = async (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (name === '.wh..wh..opq') {
        rmSync(p, { force: true });
        n++;
        continue;
      }
      if (name.startsWith('.wh.')) {
        rmSync(p, { force: true });
        await capture('mknod', [join(d, name.slice(4)), 'c', '0', '0']);
        n++;
        continue;
      }
      if (lstatSync(p).isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return n;
}

/** sha256 of the uncompressed tar stream (the layer's diff_id). */
export async function uncompressedDigest(file: string, c: Compression): Promise<string> {
  const h = createHash('sha256');
  const sink = new Writable({ write: (chunk, _e, cb) => (h.update(chunk), cb()) });
  try {
    if (c === 'none') await pipeline(createReadStream(file), sink);
    else await pipeline(createReadStream(file), c === 'gzip' ? zlib.createGunzip() : zlib.createZstdDecompress(), sink);
  } catch (err) {
    throw new RunnerError(`layer ${file} does not decompress (${c}): ${(err as Error).message}`);
  }
  return `sha256:${h.digest('hex')}`;
}

/** Extracts tarball `file` into `dest` unless it is there already; returns whether it extracted. */
export async function unpackLayer(file: string, dest: string, c: Compression): Promise<boolean> {
  if (existsSync(dest)) return false;
  const tmp = `${dest}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const flag = c === 'gzip' ? ['-z'] : c === 'zstd' ? ['--zstd'] : [];
    const r = await capture('tar', ['--numeric-owner', '-xp', ...flag, '-f', file, '-C', tmp]);
    if (r.exitCode !== 0) throw new RunnerError(`tar -x ${file}: ${(r.failure ?? r.stderr).trim()}`);
    await convertWhiteouts(tmp);
    try {
      renameSync(tmp, dest);
    } catch (err) {
      // Another pull of the same layer won the race: its copy is as good as ours.
      if (!existsSync(dest)) throw err;
    }
    return true;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const pidAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Removes what a killed pull or load left: `.pull-PID-*` downloads and `layers/*.tmp-PID` of dead processes (or of `own`, our pid, when we are exiting). */
export function sweepStale(imagesRoot: string, own?: number): string[] {
  const gone: string[] = [];
  const sweep = (dir: string, re: RegExp) => {
    if (!existsSync(dir)) return;
    for (const n of readdirSync(dir)) {
      const m = re.exec(n);
      if (m && (Number(m[1]) === own || !pidAlive(Number(m[1])))) {
        rmSync(join(dir, n), { recursive: true, force: true });
        gone.push(join(dir, n));
      }
    }
  };
  sweep(imagesRoot, /^\.pull-(\d+)-/);
  sweep(join(imagesRoot, 'layers'), /\.tmp-(\d+)$/);
  return gone;
}
