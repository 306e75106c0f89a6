// Manifests: an image index / manifest list is resolved to the manifest for one platform; docker schema2 and OCI
// manifests are accepted (schema1 is refused). Every document is checked against the digest that named it.

import { createHash } from 'node:crypto';
import { Exit, RunnerError } from '../../cli/errors.ts';
import { registryError, type RegistryClient } from './client.ts';
import { platformString, type ImageReference, type Platform } from './reference.ts';

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

const ACCEPT = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest];
/** Manifests are small; a larger answer is refused rather than read into memory. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
}

export interface ImageManifest {
  /** The digest of the manifest itself (what repo@digest names). */
  digest: string;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

export const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function checkDescriptor(d: any, what: string): Descriptor {
  if (!d || typeof d.digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(d.digest) || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw new RunnerError(`invalid ${what} descriptor in the manifest: ${JSON.stringify(d)?.slice(0, 200)}`);
  }
  return d as Descriptor;
}

async function fetchDocument(client: RegistryClient, ref: string, expected: string | undefined): Promise<{ digest: string; mediaType: string; doc: any }> {
  const res = await client.get(`${client.repo}/manifests/${ref}`, ACCEPT);
  if (res.status === 404) {
    const why = await registryError(res);
    throw new RunnerError(`manifest for ${client.registry}/${client.repo}:${ref} not found (${why})`, Exit.NotFound);
  }
  if (!res.ok) throw new RunnerError(`${client.registry} answered ${res.status} for manifest ${ref}: ${await registryError(res)}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  if (bytes.length > MAX_MANIFEST_BYTES) throw new RunnerError(`manifest ${ref} is ${bytes.length} bytes: refused (at most ${MAX_MANIFEST_BYTES})`);
  const digest = sha256(bytes);
  if (expected && digest !== expected) throw new RunnerError(`manifest ${ref} failed verification: its content has digest ${digest}`);
  let doc: any;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new RunnerError(`manifest ${ref} from ${client.registry} is not JSON`);
  }
  const mediaType = doc.mediaType ?? res.headers.get('content-type')?.split(';')[0] ?? '';
  return { digest, mediaType, doc };
}

function pickPlatform(list: any, want: Platform, ref: string): Descriptor {
  const entries = (Array.isArray(list.manifests) ? list.manifests : []) as Descriptor[];
  const match = entries.find((m) => m.platform?.os === want.os && m.platform?.architecture === want.architecture && (!want.variant || m.platform?.variant === want.variant));
  if (!match) {
    const have = entries.map((m) => (m.platform ? platformString(m.platform) : 'unknown')).join(', ');
    throw new RunnerError(`no manifest for ${platformString(want)} in ${ref} (it has: ${have || 'none'})`, Exit.NotFound);
  }
  return checkDescriptor(match, 'platform manifest');
}

/** The image manifest `ref` names for `platform`, every step verified against its digest. */
export async function resolveManifest(client: RegistryClient, ref: ImageReference, platform: Platform): Promise<ImageManifest> {
  const name = ref.digest ?? ref.tag!;
  let { digest, mediaType, doc } = await fetchDocument(client, name, ref.digest);
  if (mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList || (!doc.config && Array.isArray(doc.manifests))) {
    const chosen = pickPlatform(doc, platform, `${ref.localRepo}:${name}`);
    ({ digest, mediaType, doc } = await fetchDocument(client, chosen.digest, chosen.digest));
  }
  if (doc.schemaVersion === 1) throw new RunnerError(`${ref.localRepo}:${name} is a schema 1 manifest: not supported (push it again with a current client)`);
  if (mediaType !== MEDIA.ociManifest && mediaType !== MEDIA.dockerManifest && !(doc.config && Array.isArray(doc.layers))) {
    throw new RunnerError(`unsupported manifest type ${JSON.stringify(mediaType)} for ${ref.localRepo}:${name}`);
  }
  return {
    digest,
    mediaType,
    config: checkDescriptor(doc.config, 'config'),
    layers: (doc.layers as unknown[]).map((l, i) => checkDescriptor(l, `layer ${i}`)),
  };
}
