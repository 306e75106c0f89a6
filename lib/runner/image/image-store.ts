// lib/runner/image: images for the runner — this store, loading archives (load.ts) and the built-in busybox
// image (busybox-image.ts). Here: unpacked layer directories under <stateRoot>/images/layers/<digest>/ and a lowdb
// index of images (name:tag → layers + config). The overlay of an image's layers is the lower part of a rootfs.

import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openStateDb, type StateDb } from '../state-db.ts';
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
  /** The manifest digest it was pulled by (repo@digest finds it). */
  digest?: string;
}

/** docker's name for an image whose tag moved on to another image. */
export const NONE = '<none>';

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

  private db(): StateDb<ImageIndex> {
    return openStateDb<ImageIndex>(join(this.root, 'index.json'), { images: [] });
  }

  list(): ImageRecord[] {
    return this.db().data.images;
  }

  find(ref: string): ImageRecord | undefined {
    const images = this.list();
    const at = ref.indexOf('@');
    if (at > 0) {
      const r = normalizeRepo(ref.slice(0, at));
      return images.find((i) => normalizeRepo(i.repo) === r && i.digest === ref.slice(at + 1));
    }
    const { repo, tag } = splitRef(ref);
    const r = normalizeRepo(repo);
    return images.find((i) => normalizeRepo(i.repo) === r && i.tag === tag) ?? (/^[0-9a-f]{6,64}$/.test(ref) ? images.find((i) => i.id.startsWith(ref)) : undefined);
  }

  get(ref: string): ImageRecord {
    const img = this.find(ref);
    if (!img) {
      throw new RunnerError(`image ${ref} not found: pull it (tscni pull ${ref}), build busybox (tscni image build-busybox) or load an archive (tscni load FILE)`, Exit.NotFound);
    }
    return img;
  }

  /**
   * Adds or retags an image (caller holds the image lock). The image the tag named before stays, as <none>:<none>,
   * when nothing else names it (a container may still use it; `image prune` removes it once none does).
   */
  put(img: ImageRecord): void {
    const db = this.db();
    const same = (i: ImageRecord) => normalizeRepo(i.repo) === normalizeRepo(img.repo) && i.tag === img.tag && (img.tag !== NONE || i.digest === img.digest);
    const old = db.data.images.find(same);
    db.data.images = db.data.images.filter((i) => !same(i));
    if (old && old.id !== img.id && !db.data.images.some((i) => i.id === old.id)) db.data.images.push({ ...old, repo: NONE, tag: NONE });
    db.data.images = db.data.images.filter((i) => !(i.repo === NONE && i.id === img.id));
    db.data.images.push(img);
    db.write();
  }

  /** Layer directories no image names (a pull in progress holds the image lock while it indexes). */
  unusedLayers(): string[] {
    const dir = join(this.root, 'layers');
    if (!existsSync(dir)) return [];
    const used = new Set(this.list().flatMap((i) => i.layers.map((l) => l.replace(':', '-'))));
    return readdirSync(dir).filter((n) => /^[a-z0-9]+-[a-f0-9]{16,128}$/.test(n) && !used.has(n)).map((n) => join(dir, n));
  }

  /** Removes the <none> images `keep` does not protect, then unused layers; returns what went. */
  prune(keep: (img: ImageRecord) => boolean): { images: ImageRecord[]; layers: string[] } {
    const db = this.db();
    const gone = db.data.images.filter((i) => i.repo === NONE && i.tag === NONE && !keep(i));
    db.data.images = db.data.images.filter((i) => !gone.includes(i));
    db.write();
    const layers = this.unusedLayers();
    for (const l of layers) rmSync(l, { recursive: true, force: true });
    return { images: gone, layers };
  }

  /** Removes an image (caller holds the image lock); layers no other image uses are deleted. */
  remove(ref: string): ImageRecord {
    const img = this.get(ref);
    const db = this.db();
    db.data.images = db.data.images.filter((i) => !(i.id === img.id && i.repo === img.repo && i.tag === img.tag && i.digest === img.digest));
    db.write();
    const inUse = new Set(db.data.images.flatMap((i) => i.layers));
    for (const l of img.layers) if (!inUse.has(l) && existsSync(this.layerDir(l))) rmSync(this.layerDir(l), { recursive: true, force: true });
    return img;
  }

  layerDirs(img: ImageRecord): string[] {
    return img.layers.map((l) => this.layerDir(l));
  }
}
