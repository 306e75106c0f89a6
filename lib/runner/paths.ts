// Where the runner keeps things: every location comes from the environment first, so tests can isolate themselves.

import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface RunnerPaths {
  /** NETCONFPATH: directory of network configs (.conflist, .conf, .json). */
  netconfDir: string;
  /** libcni's cache root; results live under `<cacheDir>/results`. */
  cacheDir: string;
  /** tscni's own state: containers/, images/, locks. */
  stateRoot: string;
  /** Where container netns files are bind-mounted (ip netns's directory). */
  netnsDir: string;
  /** Plugin search path (default: tscni's own dist/bin, /opt/cni/bin, then Debian's /usr/lib/cni). */
  cniPath: string[];
  /** Directory of the running tscni executable (dist/bin): our own plugins live beside it. */
  selfDir: string;
  /** runc-compatible runtime binary. */
  runtime: string;
  /** runc's state root (--root), isolated per state root when TSCNI_STATE_DIR is set. */
  runtimeRoot: string;
  /** --init's binary (a static tini: it runs inside any image), bind-mounted into the container. */
  initBinary: string;
}

export function selfExecutable(): string {
  const script = process.argv[1] ?? '';
  try {
    return realpathSync(script);
  } catch {
    return script;
  }
}

export function resolvePaths(env: NodeJS.ProcessEnv = process.env): RunnerPaths {
  const selfDir = dirname(selfExecutable());
  const stateRoot = env.TSCNI_STATE_DIR || '/var/lib/tscni';
  const cniPath = env.CNI_PATH ? env.CNI_PATH.split(':').filter(Boolean) : [selfDir, '/opt/cni/bin', '/usr/lib/cni'];
  return {
    netconfDir: env.NETCONFPATH || '/etc/cni/net.d',
    cacheDir: env.TSCNI_CACHE_DIR || '/var/lib/cni',
    stateRoot,
    netnsDir: '/var/run/netns',
    cniPath,
    selfDir,
    runtime: env.TSCNI_RUNTIME || 'runc',
    runtimeRoot: env.TSCNI_STATE_DIR ? join(stateRoot, 'runc') : '/run/tscni-runc',
    initBinary: env.TSCNI_INIT_PATH || '/usr/bin/tini-static',
  };
}
