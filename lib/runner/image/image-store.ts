// lib/runner/image: images for the runner — this store, loading archives (load.ts) and the built-in busybox
// image (busybox-image.ts). Here: unpacked layer directories under <stateRoot>/images/layers/<digest>/ and a lowdb
// index of images (name:tag → layers + config). The overlay of an image's layers is the lower part of a rootfs.

import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LowSync } from 'lowdb';
import { JSONFileSync } from 'lowdb/node';
import { RunnerError, Exit } from '../cli/errors.ts';

export interface ImageConfig {
  Cmd?: string[];
  Entrypoint?: string[];
  Env?: string[];
  WorkingDir?: string;
  ExposedPorts?: Record<string, unknown>;
}

export interface ImageRecord {
  id: string;
  repo: string;
  tag: string;
  /** Layer digests, lowest first. */
  layers: string[];
  config: ImageConfig;
  created: string;
  size: number;
}

interface ImageIndex {
  images: ImageRecord[];
}

export function splitRef(ref: string): { repo: string; tag: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref, tag: 'latest' };
}

/** docker's short names: "docker.io/library/busybox" and "busybox" are the same image. */
function normalizeRepo(repo: string): string {
  return repo.replace(/^(docker\.io|localhost)\//, '').replace(/^library\//, '');
}

export class ImageStore {
  readonly root: string;
  constructor(stateRoot: string) {
    this.root = join(stateRoot, 'images');
  }

  layerDir(digest: string): string {
    if (!/^[a-z0-9]+:[a-f0-9]{16,128}$/.test(digest)) throw new RunnerError(`invalid layer digest ${JSON.stringify(digest)}`);
    return join(this.root, 'layers', digest.replace(':', '-'));
  }

  get lock(): string {
    return join(this.root, '.lock');
  }

  private db(): LowSync<ImageIndex> {
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    const db = new LowSync<ImageIndex>(new JSONFileSync<ImageIndex>(join(this.root, 'index.json')), { images: [] });
    db.read();
    return db;
  }

  list(): ImageRecord[] {
    return this.db().data.images;
  }

  find(ref: string): ImageRecord | undefined {
    const { repo, tag } = splitRef(ref);
    const images = this.list();
    const r = normalizeRepo(repo);
    return images.find((i) => normalizeRepo(i.repo) === r && i.tag === tag) ?? (/^[0-9a-f]{6,64}$/.test(ref) ? images.find((i) => i.id.startsWith(ref)) : undefined);
  }

  get(ref: string): ImageRecord {
    const img = this.find(ref);
    if (!img) {
      throw new RunnerError(`image ${ref} not found: build it with \`tscni image build-busybox\` or load an archive with \`tscni load FILE\``, Exit.NotFound);
    }
    return img;
  }

  /** Adds or retags an image (caller holds the image lock). */
  put(img: ImageRecord): void {
    const db = this.db();
    db.data.images = db.data.images.filter((i) => !(normalizeRepo(i.repo) === normalizeRepo(img.repo) && i.tag === img.tag));
    db.data.images.push(img);
    db.write();
  }

  /** Removes an image; layers no other image uses are deleted. */
  remove(ref: string): ImageRecord {
    const img = this.get(ref);
    const db = this.db();
    db.data.images = db.data.images.filter((i) => i !== undefined && !(i.id === img.id && i.repo === img.repo && i.tag === img.tag));
    db.write();
    const inUse = new Set(db.data.images.flatMap((i) => i.layers));
    for (const l of img.layers) if (!inUse.has(l) && existsSync(this.layerDir(l))) rmSync(this.layerDir(l), { recursive: true, force: true });
    return img;
  }

  layerDirs(img: ImageRecord): string[] {
    return img.layers.map((l) => this.layerDir(l));
  }
}
