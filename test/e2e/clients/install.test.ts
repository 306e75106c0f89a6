// `tscni install` / `tscni uninstall`: the round trip in a temp root, plugins that run with the checkout and any
// system JS runtime hidden, foreign files never touched, replaced files restored, changed files kept.

import test, { type ExecutionContext } from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInstall } from '../../../lib/install/install.ts';
import { runUninstall } from '../../../lib/install/uninstall.ts';
import { snapshotTree } from '../../helpers/fs-tree.ts';
import { runHidden } from '../../helpers/hidden-checkout.ts';
import { ipJson, makeNetns, requireRoot } from '../../helpers/netns.ts';
import { DIST_BIN, ROOT } from '../../helpers/plugin.ts';

const FOUR = ['loopback', 'bridge', 'host-local', 'portmap'];
const VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];

function tempDir(t: ExecutionContext): string {
  const d = mkdtempSync(join(tmpdir(), 'tscni-inst-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

async function call(fn: typeof runInstall, argv: string[]) {
  let out = '';
  let err = '';
  const code = await fn(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

/** A temp machine: PREFIX, BIN, CONF under one dir, with foreign files already in BIN and CONF. */
function machine(t: ExecutionContext) {
  const d = tempDir(t);
  const m = { d, prefix: join(d, 'opt/tscni'), bin: join(d, 'opt/cni/bin'), conf: join(d, 'etc/cni/net.d') };
  mkdirSync(m.bin, { recursive: true });
  mkdirSync(m.conf, { recursive: true });
  writeFileSync(join(m.bin, 'firewall'), '#!/bin/sh\necho foreign\n', { mode: 0o755 });
  writeFileSync(join(m.conf, '99-other.conflist'), '{"name":"other"}\n');
  return { ...m, args: ['--prefix', m.prefix, '--bin-dir', m.bin, '--conf-dir', m.conf] };
}

test('dist/bin holds the four plugins the install ships', (t) => {
  for (const p of FOUR) t.true(existsSync(join(DIST_BIN, p)), `${p} not built`);
});

test.serial('install, run with the checkout and system node hidden, uninstall: back to exactly the foreign files', async (t) => {
  if (!requireRoot(t)) return;
  const m = machine(t);
  const before = snapshotTree(m.d);
  const r = await call(runInstall, m.args);
  t.is(r.code, 0, r.err);
  t.regex(r.out, /^tscni install: \d+ files under /);
  const note = 'tscni install: note: the conflist says cniVersion 1.1.0; runtimes on libcni 1.1 (e.g. containerd 1.6, podman 4.3) reject 1.1.0 results: pass --cni-version 1.0.0 for them\n';
  t.is(r.err, JSON.parse(readFileSync(join(ROOT, 'conf/10-tscni.conflist'), 'utf8')).cniVersion === '1.1.0' ? note : '');

  // The CNI bin dir holds one link per plugin into the prefix, and the foreign file as it was.
  for (const p of FOUR) t.is(readlinkSync(join(m.bin, p)), join(m.prefix, 'lib', p));
  t.is(readFileSync(join(m.bin, 'firewall'), 'utf8'), '#!/bin/sh\necho foreign\n');
  for (const p of FOUR) t.is(readFileSync(join(m.prefix, 'lib', p), 'utf8').split('\n')[0], `#!${m.prefix}/bun`);
  // The default network from conf/ is installed unchanged in meaning.
  t.deepEqual(JSON.parse(readFileSync(join(m.conf, '10-tscni.conflist'), 'utf8')), JSON.parse(readFileSync(join(ROOT, 'conf/10-tscni.conflist'), 'utf8')));
  // The prefix holds the runtime, one self-contained bundle per executable and the manifest: no node_modules.
  t.deepEqual(Object.keys(snapshotTree(m.prefix)).sort(), ['bun', 'lib', ...['bridge', 'host-local', 'loopback', 'portmap', 'tscni'].map((p) => `lib/${p}`), 'manifest.json']);

  // The manifest lists exactly the paths that appeared, nothing more, nothing less.
  const manifest = JSON.parse(readFileSync(join(m.prefix, 'manifest.json'), 'utf8'));
  const after = snapshotTree(m.d);
  const appeared = Object.keys(after).filter((p) => !(p in before) && p !== 'opt/tscni/manifest.json').map((p) => join(m.d, p)).sort();
  t.deepEqual(manifest.entries.map((e: { path: string }) => e.path).sort(), appeared);
  for (const p of Object.keys(before)) t.is(after[p], before[p], p);

  // Run each installed plugin as a runtime would, with the checkout covered and no usable node on PATH.
  const probe = runHidden(['sh', '-c', 'ls -A "$0"; command -v node >/dev/null && node --version', ROOT]);
  t.is(probe.stdout, '', 'the checkout is empty and node does not run');
  t.not(probe.status, 0);
  const host = makeNetns(t, 'insth');
  const ctr = makeNetns(t, 'instc');
  for (const p of FOUR) {
    const v = runHidden([join(m.bin, p)], { netns: host.name, env: { CNI_COMMAND: 'VERSION' }, input: '{"cniVersion":"1.0.0"}' });
    t.is(v.status, 0, `${p}: ${v.stderr}`);
    t.deepEqual(JSON.parse(v.stdout), { cniVersion: '1.0.0', supportedVersions: VERSIONS }, p);
  }
  ctr.run(['ip', 'link', 'set', 'lo', 'down']);
  const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'inst1', CNI_NETNS: ctr.path, CNI_IFNAME: 'lo', CNI_PATH: m.bin };
  const add = runHidden([join(m.bin, 'loopback')], { netns: host.name, env, input: JSON.stringify({ cniVersion: '1.0.0', name: 'inst', type: 'loopback' }) });
  t.is(add.status, 0, add.stderr + add.stdout);
  t.is(JSON.parse(add.stdout).interfaces[0].name, 'lo');
  t.deepEqual(ipJson(ctr, ['link', 'show', 'lo'])[0].flags, ['LOOPBACK', 'UP', 'LOWER_UP']);
  const dataDir = join(m.d, 'leases');
  const hl = { cniVersion: '1.0.0', name: 'inst', type: 'host-local', ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.250.7.0/24' }]] } };
  const ipam = runHidden([join(m.bin, 'host-local')], { netns: host.name, env: { ...env, CNI_IFNAME: 'eth0' }, input: JSON.stringify(hl) });
  t.is(ipam.status, 0, ipam.stderr + ipam.stdout);
  t.is(JSON.parse(ipam.stdout).ips[0].address, '10.250.7.2/24');
  const ipamDel = runHidden([join(m.bin, 'host-local')], { netns: host.name, env: { ...env, CNI_COMMAND: 'DEL', CNI_IFNAME: 'eth0' }, input: JSON.stringify(hl) });
  t.is(ipamDel.status, 0, ipamDel.stderr + ipamDel.stdout);

  // The whole chain, hidden: bridge (netlink, nft, delegating to host-local) then portmap (nft), DEL in reverse.
  const bridgeConf = { cniVersion: '1.0.0', name: 'inst', type: 'bridge', bridge: 'tscinst0', isGateway: true, ipMasq: true,
    ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.250.8.0/24' }]] } };
  const chainEnv = { ...env, CNI_CONTAINERID: 'inst2', CNI_IFNAME: 'eth0' };
  const br = runHidden([join(m.bin, 'bridge')], { netns: host.name, env: chainEnv, input: JSON.stringify(bridgeConf) });
  t.is(br.status, 0, br.stderr + br.stdout);
  const prevResult = JSON.parse(br.stdout);
  t.deepEqual(prevResult.ips.map((i: { address: string }) => i.address), ['10.250.8.2/24']);
  const pmConf = { cniVersion: '1.0.0', name: 'inst', type: 'portmap', runtimeConfig: { portMappings: [{ hostPort: 18089, containerPort: 80, protocol: 'tcp' }] }, prevResult };
  const pm = runHidden([join(m.bin, 'portmap')], { netns: host.name, env: chainEnv, input: JSON.stringify(pmConf) });
  t.is(pm.status, 0, pm.stderr + pm.stdout);
  t.deepEqual(ipJson(ctr, ['-4', 'addr', 'show', 'eth0'])[0].addr_info.map((a: { local: string }) => a.local), ['10.250.8.2']);
  t.true(host.run(['/usr/sbin/nft', '-j', 'list', 'ruleset']).includes('18089'), 'portmap published 18089');
  for (const [bin, conf] of [['portmap', pmConf], ['bridge', { ...bridgeConf, prevResult }]] as const) {
    const del = runHidden([join(m.bin, bin)], { netns: host.name, env: { ...chainEnv, CNI_COMMAND: 'DEL' }, input: JSON.stringify(conf) });
    t.is(del.status, 0, `${bin} DEL: ${del.stderr}${del.stdout}`);
  }
  t.deepEqual(ipJson(host, ['link', 'show', 'type', 'veth']), [], 'no veth left');
  t.false(host.run(['/usr/sbin/nft', '-j', 'list', 'ruleset']).includes('18089'), 'no published port left');
  rmSync(dataDir, { recursive: true, force: true });

  const u = await call(runUninstall, ['--prefix', m.prefix]);
  t.is(u.code, 0, u.err);
  t.deepEqual(snapshotTree(m.d), before);
});

test.serial('an existing foreign plugin is refused without --replace, and restored by uninstall with it', async (t) => {
  const m = machine(t);
  writeFileSync(join(m.bin, 'bridge'), '#!/bin/sh\necho reference-bridge\n', { mode: 0o755 });
  const before = snapshotTree(m.d);
  const refused = await call(runInstall, m.args);
  t.is(refused.code, 1);
  t.is(refused.err.split('\n').at(-2) + '\n', `tscni install: refusing to overwrite files tscni did not install: ${join(m.bin, 'bridge')} (pass --replace to back them up and restore them on uninstall)\n`);
  t.deepEqual(snapshotTree(m.d), before, 'a refused install writes nothing');

  const r = await call(runInstall, [...m.args, '--replace']);
  t.is(r.code, 0, r.err);
  t.is(readlinkSync(join(m.bin, 'bridge')), join(m.prefix, 'lib/bridge'));
  t.is(readFileSync(join(m.prefix, 'backup', m.bin, 'bridge'), 'utf8'), '#!/bin/sh\necho reference-bridge\n');
  const u = await call(runUninstall, ['--prefix', m.prefix]);
  t.is(u.code, 0, u.err);
  t.deepEqual(snapshotTree(m.d), before);
});

test.serial('installing twice replaces the first install; a changed file is kept until --force', async (t) => {
  const m = machine(t);
  const before = snapshotTree(m.d);
  t.is((await call(runInstall, m.args)).code, 0);
  const again = await call(runInstall, m.args);
  t.is(again.code, 0, again.err);
  t.regex(again.err, /replacing the previous install/);

  const conflist = join(m.conf, '10-tscni.conflist');
  writeFileSync(conflist, '{"edited":true}\n');
  const kept = await call(runUninstall, ['--prefix', m.prefix]);
  t.is(kept.code, 1);
  t.true(kept.err.includes(`keeping ${conflist}: changed since install`), kept.err);
  t.is(readFileSync(conflist, 'utf8'), '{"edited":true}\n');
  t.false(existsSync(join(m.bin, 'loopback')));
  t.deepEqual(JSON.parse(readFileSync(join(m.prefix, 'manifest.json'), 'utf8')).entries.map((e: { path: string }) => e.path), [m.prefix, conflist], 'the changed file and the prefix that holds the manifest');
  const forced = await call(runUninstall, ['--prefix', m.prefix, '--force']);
  t.is(forced.code, 0, forced.err);
  t.deepEqual(snapshotTree(m.d), before);
});

test.serial('--root writes under a mounted host root with host paths inside; --pod-cidr renders host-local ranges', async (t) => {
  const d = tempDir(t);
  const r = await call(runInstall, ['--root', d, '--pod-cidr', '10.244.3.0/24', '--pod-cidr', 'FD00:10:244:3::/64']);
  t.is(r.code, 0, r.err);
  t.is(readlinkSync(join(d, 'opt/cni/bin/portmap')), '/opt/tscni/lib/portmap');
  t.is(readFileSync(join(d, 'opt/tscni/lib/portmap'), 'utf8').split('\n')[0], '#!/opt/tscni/bun');
  const conf = JSON.parse(readFileSync(join(d, 'etc/cni/net.d/10-tscni.conflist'), 'utf8'));
  t.deepEqual(conf.plugins[0].ipam.ranges, [[{ subnet: '10.244.3.0/24' }], [{ subnet: 'fd00:10:244:3::/64' }]]);
  const m = JSON.parse(readFileSync(join(d, 'opt/tscni/manifest.json'), 'utf8'));
  t.is(m.entries[0].path, '/opt');
  const u = await call(runUninstall, ['--root', d]);
  t.is(u.code, 0, u.err);
  t.deepEqual(snapshotTree(d), {});
});

test('bad arguments: usage errors name the flag and value; bad pod CIDRs and conflists fail before writing', async (t) => {
  const d = tempDir(t);
  const cases: [string[], number, string][] = [
    [['--bin-dir', 'relative/bin'], 2, 'tscni install: --bin-dir "relative/bin": must be an absolute path\n'],
    [['--prefix'], 2, 'tscni install: --prefix needs a value\n'],
    [['--frobnicate'], 2, 'tscni install: unknown argument "--frobnicate"\n'],
    [['--plugins', 'bridge,flannel'], 2, 'tscni install: --plugins: unknown plugin "flannel" (known: loopback, bridge, host-local, portmap)\n'],
    [['--root', d, '--pod-cidr', '10.244.3.0/33'], 1, 'tscni install: invalid pod CIDR "10.244.3.0/33": want an IPv4 /8-/32 or IPv6 /64-/128 network like 10.244.3.0/24\n'],
    [['--root', d, '--conflist', join(d, 'missing.conflist')], 1, `tscni install: conflist ${join(d, 'missing.conflist')}: ENOENT\n`],
  ];
  for (const [argv, code, err] of cases) {
    const r = await call(runInstall, argv);
    t.is(r.code, code, argv.join(' '));
    t.is(r.err.split('\n')[0] + '\n', err, argv.join(' '));
  }
  const foreignType = join(d, 'f.conflist');
  writeFileSync(foreignType, JSON.stringify({ cniVersion: '1.0.0', name: 'f', plugins: [{ type: 'flannel' }] }));
  const r = await call(runInstall, ['--root', d, '--conflist', foreignType]);
  t.is(r.err, `tscni install: conflist ${foreignType}: plugins[0].type "flannel" is not an installed tscni plugin (loopback, bridge, host-local, portmap)\n`);
  t.deepEqual(Object.keys(snapshotTree(d)), ['f.conflist'], 'nothing written');
  const u = await call(runUninstall, ['--root', d]);
  t.is(u.code, 1);
  t.is(u.err, 'tscni uninstall: nothing to uninstall: no /opt/tscni/manifest.json\n');
});
