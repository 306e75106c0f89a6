// A real OCI distribution registry for the pull tests: Debian's docker-registry on 127.0.0.1 inside a test's own
// netns with a temp storage dir, filled by a small push client (blob upload POST + PUT, manifest PUT, with curl
// inside the netns), plus registry-front.ts, a fault-injecting front (corrupt blob, dying registry, token auth).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ExecutionContext } from 'ava';
import type { TestNetns } from '../netns.ts';
import { rootfsTar } from '../busybox-tar.ts';

export interface Registry {
  host: string;
  /** Pushes `body` as a blob of `repo`; returns its descriptor. */
  blob(repo: string, body: Buffer, mediaType: string): Descriptor;
  /** PUTs a manifest document under `reference` (a tag); returns its descriptor. */
  manifest(repo: string, reference: string, doc: unknown, mediaType: string): Descriptor;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function stopOnTeardown(t: ExecutionContext, child: ChildProcess): void {
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const ended = new Promise((res) => child.once('exit', res));
    child.kill('SIGKILL');
    await ended;
  });
}

async function waitFor(ns: TestNetns, url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (ns.try(['curl', '-s', '-o', '/dev/null', '-m', '1', url]).status === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not answer within 5 s`);
}

export async function startRegistry(t: ExecutionContext, ns: TestNetns, dir: string): Promise<Registry> {
  const port = randomInt(20000, 40000);
  const storage = join(dir, 'registry-storage');
  mkdirSync(storage, { recursive: true });
  const config = join(dir, 'registry.yml');
  writeFileSync(config, `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  const child = spawn('nsenter', [`--net=${ns.path}`, 'docker-registry', 'serve', config], { stdio: 'ignore' });
  stopOnTeardown(t, child);
  const host = `127.0.0.1:${port}`;
  await waitFor(ns, `http://${host}/v2/`);
  let n = 0;
  const curl = (args: string[]) => {
    const r = ns.try(['curl', '-sS', '-m', '10', ...args]);
    if (r.status !== 0) throw new Error(`curl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const upload = (path: string, body: Buffer, extra: string[]): void => {
    const file = join(dir, `push-${n++}`);
    writeFileSync(file, body);
    const code = curl(['-o', '/dev/null', '-w', '%{http_code}', '-X', 'PUT', '--data-binary', `@${file}`, ...extra, path]);
    if (code !== '201') throw new Error(`PUT ${path}: HTTP ${code}`);
  };
  return {
    host,
    blob(repo, body, mediaType) {
      const digest = sha(body);
      const headers = curl(['-o', '/dev/null', '-D', '-', '-X', 'POST', `http://${host}/v2/${repo}/blobs/uploads/`]);
      const loc = /^location:\s*(\S+)/im.exec(headers)?.[1];
      if (!loc) throw new Error(`no upload location: ${headers}`);
      const url = new URL(loc, `http://${host}`);
      url.searchParams.set('digest', digest);
      upload(url.toString(), body, ['-H', 'Content-Type: application/octet-stream']);
      return { mediaType, digest, size: body.length };
    },
    manifest(repo, reference, doc, mediaType) {
      const body = Buffer.from(JSON.stringify(doc));
      upload(`http://${host}/v2/${repo}/manifests/${reference}`, body, ['-H', `Content-Type: ${mediaType}`]);
      return { mediaType, digest: sha(body), size: body.length };
    },
  };
}

export const OCI = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
};
export const DOCKER = {
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  config: 'application/vnd.docker.container.image.v1+json',
  layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
};

export interface PushedBusybox {
  layer: Descriptor;
  diffId: string;
  /** The OCI manifest of each platform in the index tagged `multi`. */
  amd64: Descriptor;
  arm64: Descriptor;
  index: Descriptor;
  /** The docker schema2 manifest pushed under each extra tag. */
  schema2: Record<string, Descriptor>;
}

/** busybox (test/helpers/busybox-tar.ts's rootfs, gzipped) as `repo:multi` (an OCI index: amd64, arm64) and `repo:TAG` for each docker schema2 tag. */
export function pushBusybox(reg: Registry, work: string, repo: string, schema2Tags: string[]): PushedBusybox {
  mkdirSync(work, { recursive: true });
  const tar = readFileSync(rootfsTar(work));
  const diffId = sha(tar);
  const layer = reg.blob(repo, gzipSync(tar, { level: 1 }), OCI.layer);
  const config = (arch: string, cmd: string[]) => Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', config: { Cmd: cmd, Env: ['PATH=/bin'], WorkingDir: '/' }, rootfs: { type: 'layers', diff_ids: [diffId] } }));
  const image = (arch: string, cmd: string[], m: typeof OCI | typeof DOCKER) => ({
    schemaVersion: 2, mediaType: m.manifest,
    config: reg.blob(repo, config(arch, cmd), m.config),
    layers: [{ ...layer, mediaType: m.layer }],
  });
  const amd64 = reg.manifest(repo, 'amd64', image('amd64', ['httpd', '-f', '-p', '80', '-h', '/www'], OCI), OCI.manifest);
  const arm64 = reg.manifest(repo, 'arm64', image('arm64', ['echo', 'arm64'], OCI), OCI.manifest);
  const index = reg.manifest(repo, 'multi', {
    schemaVersion: 2, mediaType: OCI.index,
    manifests: [{ ...arm64, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }, { ...amd64, platform: { os: 'linux', architecture: 'amd64' } }],
  }, OCI.index);
  const schema2 = Object.fromEntries(schema2Tags.map((tag) => [tag, reg.manifest(repo, tag, image('amd64', ['httpd', '-f', '-p', '80', '-h', '/www'], DOCKER), DOCKER.manifest)]));
  return { layer, diffId, amd64, arm64, index, schema2 };
}

/** Starts registry-front.ts in `ns` before `upstream`: base (corrupt), base+1 (dies mid-blob), base+2 (token auth), base+3 (stalls mid-blob), base+4 (counts blobs in flight). */
export async function startFront(t: ExecutionContext, ns: TestNetns, upstream: string): Promise<{ corrupt: string; dying: string; token: string; stalling: string; counting: string }> {
  const base = randomInt(40000, 60000);
  const script = join(import.meta.dirname, 'registry-front.ts');
  const child = spawn('nsenter', [`--net=${ns.path}`, process.execPath, script, String(base), upstream], { stdio: ['ignore', 'ignore', 'inherit'] });
  stopOnTeardown(t, child);
  for (let i = 0; i < 5; i++) await waitFor(ns, `http://127.0.0.1:${base + i}/healthz`);
  return { corrupt: `127.0.0.1:${base}`, dying: `127.0.0.1:${base + 1}`, token: `127.0.0.1:${base + 2}`, stalling: `127.0.0.1:${base + 3}`, counting: `127.0.0.1:${base + 4}` };
}

/** busybox plus `n` layers, each adding /data/<i> (16 KiB of random bytes, so every blob is over 4 kB), as `repo:tag`. */
export function pushLayered(reg: Registry, work: string, repo: string, tag: string, n: number): { manifest: Descriptor; layers: Descriptor[]; diffIds: string[] } {
  mkdirSync(work, { recursive: true });
  const tars = [readFileSync(rootfsTar(work))];
  for (let i = 1; i <= n; i++) {
    const dir = join(work, `layer-${i}`);
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(join(dir, 'data', String(i)), randomBytes(16384));
    const tar = join(work, `layer-${i}.tar`);
    const r = spawnSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', dir, '-cf', tar, 'data']);
    if (r.status !== 0) throw new Error(`tar: ${r.stderr}`);
    tars.push(readFileSync(tar));
  }
  const diffIds = tars.map(sha);
  const layers = tars.map((tar) => reg.blob(repo, gzipSync(tar, { level: 1 }), OCI.layer));
  const config = reg.blob(repo, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['ls', '/data'], Env: ['PATH=/bin'] }, rootfs: { type: 'layers', diff_ids: diffIds } })), OCI.config);
  const manifest = reg.manifest(repo, tag, { schemaVersion: 2, mediaType: OCI.manifest, config, layers }, OCI.manifest);
  return { manifest, layers, diffIds };
}
