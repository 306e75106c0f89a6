// The installer image: conf/kubernetes/Containerfile builds (offline, on a glibc base in place of debian:12-slim),
// and the image, run with the DaemonSet's init-container command and hostPath volumes, installs tscni on a
// kubeadm-like node and uninstalls it again, leaving the node exactly as it was.

import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOST, HOST_DIRS, INSTALL_COMMAND } from '../../../conf/kubernetes/manifest.ts';
import { snapshotTree } from '../../helpers/fs-tree.ts';
import { glibcBaseTar } from '../../helpers/clients/glibc-base.ts';
import { makeNode } from '../../helpers/clients/k8s-node.ts';
import { makeNetns, requireRoot } from '../../helpers/netns.ts';
import { ROOT } from '../../helpers/plugin.ts';
import { makePodman } from '../../helpers/clients/podman.ts';

const BASE = 'localhost/tscni-glibc-base:test';
const IMAGE = 'localhost/tscni-installer:test';

test.serial('the Containerfile builds an installer image that installs and uninstalls tscni through hostPath volumes', async (t) => {
  if (!requireRoot(t)) return;
  const d = mkdtempSync(join(tmpdir(), 'tscni-k8simg-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  const host = makeNetns(t, 'k8si');
  // No container here uses a network: podman only wants a plugin dir that exists.
  mkdirSync(join(d, 'no-plugins'));
  const podman = makePodman(t, host, [join(d, 'no-plugins')], 'none');
  const work = join(d, 'base');
  mkdirSync(work);
  podman.ok(['import', glibcBaseTar(work, join(ROOT, 'node_modules/bun/bin/bun.exe')), BASE], { hideVarLib: true });
  podman.ok(['build', '--layers=false', '--from', BASE, '-f', join(ROOT, 'conf/kubernetes/Containerfile'), '-t', IMAGE, ROOT], { hideVarLib: true });

  const { node } = makeNode(d);
  const before = snapshotTree(node);
  const volumes = Object.values(HOST_DIRS).flatMap((p) => ['--volume', `${join(node, p)}:${HOST}${p}`]);
  // The DaemonSet's command, with the pod CIDR given instead of read from the API (that path has its own test).
  const i = INSTALL_COMMAND.indexOf('--pod-cidr-from-node');
  const command = [...INSTALL_COMMAND.slice(0, i), '--pod-cidr', '10.244.3.0/24', ...INSTALL_COMMAND.slice(i + 2)];
  const run = (argv: readonly string[]) => podman.ok(['run', '--rm', '--network', 'none', ...volumes, '--entrypoint', argv[0], IMAGE, ...argv.slice(1)]);

  t.regex(run(command), /^tscni install: \d+ files under \/opt\/tscni; plugins linked in \/opt\/cni\/bin; network tscni in \/etc\/cni\/net\.d;/);
  for (const p of ['bridge', 'host-local', 'loopback', 'portmap']) {
    t.is(readlinkSync(join(node, 'opt/cni/bin', p)), `/opt/tscni/lib/${p}`);
    t.is(readFileSync(join(node, 'opt/tscni/backup/opt/cni/bin', p), 'utf8'), `#!/bin/sh\necho reference ${p}\n`);
  }
  t.is(readFileSync(join(node, 'opt/tscni/lib/portmap'), 'utf8').split('\n')[0], '#!/opt/tscni/bun');
  const conflist = JSON.parse(readFileSync(join(node, 'etc/cni/net.d/10-tscni.conflist'), 'utf8'));
  t.is(conflist.cniVersion, '1.0.0');
  t.deepEqual(conflist.plugins[0].ipam.ranges, [[{ subnet: '10.244.3.0/24' }]]);

  t.is(run([INSTALL_COMMAND[0], INSTALL_COMMAND[1], 'uninstall', '--root', HOST]), 'tscni uninstall: removed everything recorded in /opt/tscni/manifest.json');
  t.deepEqual(snapshotTree(node), before);
});
