// Named volumes: <stateRoot>/volumes/<name>/_data plus meta.json. They outlive containers: only `volume rm`
// (refused while a container uses one) and `rm -v` (a container's anonymous volumes) remove them.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { conflict, notFound } from '../cli/errors.ts';
import type { ContainerState } from '../container/store.ts';
import { checkVolumeName, VOLUME_NAME } from './mount-specs.ts';

export interface VolumeInfo {
  Name: string;
  Driver: 'local';
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Anonymous: boolean;
}

export class VolumeStore {
  readonly root: string;
  constructor(stateRoot: string) {
    this.root = join(stateRoot, 'volumes');
  }

  get lock(): string {
    return join(this.root, '.lock');
  }

  private dir(name: string): string {
    checkVolumeName(name);
    return join(this.root, name);
  }

  dataDir(name: string): string {
    return join(this.dir(name), '_data');
  }

  /** Creates the volume unless it exists (caller holds the volume lock); returns it. */
  create(name: string, anonymous = false): VolumeInfo {
    const have = this.find(name);
    if (have) return have;
    const info: VolumeInfo = { Name: name, Driver: 'local', Mountpoint: this.dataDir(name), CreatedAt: new Date().toISOString(), Labels: {}, Anonymous: anonymous };
    mkdirSync(info.Mountpoint, { recursive: true, mode: 0o755 });
    writeFileSync(join(this.dir(name), 'meta.json'), JSON.stringify(info, null, 2) + '\n');
    return info;
  }

  find(name: string): VolumeInfo | undefined {
    const meta = join(this.dir(name), 'meta.json');
    if (!existsSync(meta)) return undefined;
    return JSON.parse(readFileSync(meta, 'utf8')) as VolumeInfo;
  }

  get(name: string): VolumeInfo {
    const v = this.find(name);
    if (!v) throw notFound(`no such volume: ${name}`);
    return v;
  }

  list(): VolumeInfo[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root).filter((n) => VOLUME_NAME.test(n) && existsSync(join(this.root, n, 'meta.json'))).map((n) => this.get(n)).sort((a, b) => a.Name.localeCompare(b.Name));
  }

  /** Removes a volume no container (running or not) names (caller holds the volume lock). */
  remove(name: string, containers: ContainerState[]): void {
    this.get(name);
    const users = containers.filter((c) => c.mounts?.some((m) => m.type === 'volume' && m.source === name));
    if (users.length) throw conflict(`volume ${name} is in use by container(s) ${users.map((c) => c.name).join(', ')}`);
    rmSync(this.dir(name), { recursive: true, force: true });
  }
}
