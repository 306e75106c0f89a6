// A kubeadm-like node for the Kubernetes installer tests: the DaemonSet's hostPath dirs under a temp dir, with the
// reference plugins already in /opt/cni/bin (plus a foreign one), and the container-side mount points beside it.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOST_DIRS } from '../../../conf/kubernetes/manifest.ts';

export const REFERENCE_NAMES = ['bridge', 'host-local', 'loopback', 'portmap', 'flannel'];

export function makeNode(d: string): { node: string; view: string } {
  const node = join(d, 'node');
  const view = join(d, 'container-host');
  for (const p of Object.values(HOST_DIRS)) {
    mkdirSync(join(node, p), { recursive: true }); // hostPath type DirectoryOrCreate
    mkdirSync(join(view, p), { recursive: true }); // the mount points inside the container
  }
  for (const p of REFERENCE_NAMES) writeFileSync(join(node, 'opt/cni/bin', p), `#!/bin/sh\necho reference ${p}\n`, { mode: 0o755 });
  return { node, view };
}
