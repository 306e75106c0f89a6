// Everything a container command needs, resolved once: paths, stores and the runtime.

import { ContainerStore } from './container/store.ts';
import { ImageStore } from './image/image-store.ts';
import { VolumeStore } from './volume/volume-store.ts';
import { resolvePaths, type RunnerPaths } from './paths.ts';
import type { RuntimeRef } from './container/runtime.ts';
import type { ChainOptions } from '../libcni/chain.ts';

export interface Ctx {
  paths: RunnerPaths;
  containers: ContainerStore;
  images: ImageStore;
  volumes: VolumeStore;
  runtime(binary?: string): RuntimeRef;
  chain(extra?: Partial<ChainOptions>): ChainOptions;
}

export function makeCtx(): Ctx {
  const paths = resolvePaths();
  return {
    paths,
    containers: new ContainerStore(paths.stateRoot),
    images: new ImageStore(paths.stateRoot),
    volumes: new VolumeStore(paths.stateRoot),
    runtime: (binary) => ({ binary: binary || paths.runtime, root: paths.runtimeRoot }),
    chain: (extra) => ({ cniPath: paths.cniPath, cacheDir: paths.cacheDir, selfDir: paths.selfDir, quietPlugins: true, ...extra }),
  };
}
