// tscni add|check|del|status|gc against a recording fake plugin (exact libcni request shapes), against the
// reference plugins from /usr/lib/cni, and against tscni's own plugins in dist/bin, with the cache checked exactly.

import test from 'ava';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireRoot, ipJson, makeNetns } from '../../helpers/netns.ts';
import { DIST_BIN, REF_BIN } from '../../helpers/plugin.ts';
import { chainVersion, CNI_PATH, leased, makeRunnerEnv, pluginDir, writeConf, type RunnerEnv } from './harness.ts';

const cnitoolId = (netns: string) => `cnitool-${createHash('sha512').update(netns).digest('hex').slice(0, 20)}`;

/** A plugin that records each request (command, env, stdin) and answers ADD with a result naming itself. */
function fakePlugin(r: RunnerEnv, type: string, opts: { fail?: string } = {}): string {
  const dir = join(r.dir, 'fakebin');
  mkdirSync(dir, { recursive: true });
  const log = join(r.dir, 'calls.log');
  const fail = opts.fail ? `if [ "$CNI_COMMAND" = "${opts.fail}" ]; then echo '{"code":7,"msg":"${type} says no"}'; exit 1; fi` : '';
  writeFileSync(join(dir, type), `#!/bin/bash
in=$(cat)
printf '%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "${type}" "$CNI_COMMAND" "$CNI_CONTAINERID" "$CNI_IFNAME" "$CNI_ARGS" "$in" >> ${log}
${fail}
if [ "$CNI_COMMAND" = ADD ]; then echo '{"cniVersion":"1.1.0","interfaces":[{"name":"${type}0"}],"ips":[{"address":"10.9.9.${type.length}/24","interface":0}]}'; fi
exit 0
`);
  chmodSync(join(dir, type), 0o755);
  return dir;
}

function calls(r: RunnerEnv): { type: string; cmd: string; id: string; ifname: string; args: string; conf: any }[] {
  const f = join(r.dir, 'calls.log');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').trim().split('\n').map((l) => {
    const [type, cmd, id, ifname, args, conf] = l.split('\t');
    return { type, cmd, id, ifname, args, conf: JSON.parse(conf) };
  });
}

test.serial('libcni request shapes: prevResult threading, capabilities, reverse DEL with the cached result, GC, STATUS', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'ct');
  const bin = fakePlugin(r, 'aa');
  fakePlugin(r, 'bbb');
  const list = { cniVersion: '1.1.0', name: 'fake', plugins: [{ type: 'aa', capabilities: { portMappings: true, mac: false } }, { type: 'bbb', capabilities: { mac: true }, keep: 1 }] };
  const file = writeConf(r, '10-fake.conflist', list);
  const netns = r.host.path;
  const env = { CNI_PATH: bin, CNI_ARGS: 'IP=10.9.9.9;X=1', CAP_ARGS: JSON.stringify({ portMappings: [{ hostPort: 80, containerPort: 8080, protocol: 'tcp' }], mac: 'aa:bb:cc:dd:ee:ff', other: 1 }) };
  const add = await r.tscni(['add', 'fake', netns], env);
  t.is(add.code, 0, add.stderr);
  const id = cnitoolId(netns);
  const [a, b] = calls(r);
  t.deepEqual([a.type, a.cmd, a.id, a.ifname, a.args], ['aa', 'ADD', id, 'eth0', 'IP=10.9.9.9;X=1']);
  t.deepEqual(a.conf, { type: 'aa', capabilities: { portMappings: true, mac: false }, name: 'fake', cniVersion: '1.1.0', runtimeConfig: { portMappings: [{ hostPort: 80, containerPort: 8080, protocol: 'tcp' }] } });
  const aResult = { cniVersion: '1.1.0', interfaces: [{ name: 'aa0' }], ips: [{ address: '10.9.9.2/24', interface: 0 }] };
  t.deepEqual(b.conf, { type: 'bbb', capabilities: { mac: true }, keep: 1, name: 'fake', cniVersion: '1.1.0', prevResult: aResult, runtimeConfig: { mac: 'aa:bb:cc:dd:ee:ff' } });
  const bResult = { cniVersion: '1.1.0', interfaces: [{ name: 'bbb0' }], ips: [{ address: '10.9.9.3/24', interface: 0 }] };
  t.deepEqual(JSON.parse(add.stdout), bResult);
  t.is(add.stdout, JSON.stringify(bResult, null, 4) + '\n');

  // The cache file, byte for byte as libcni writes it.
  const cacheFile = join(r.cache, 'results', `fake-${id}-eth0`);
  const expected =
    `{"kind":"cniCacheV1","containerId":"${id}","config":"${readFileSync(file).toString('base64')}","ifName":"eth0","networkName":"fake",` +
    `"netns":"${netns}","cniArgs":[["IP","10.9.9.9"],["X","1"]],"capabilityArgs":{"mac":"aa:bb:cc:dd:ee:ff","other":1,"portMappings":[{"containerPort":8080,"hostPort":80,"protocol":"tcp"}]},` +
    `"result":{"cniVersion":"1.1.0","interfaces":[{"name":"bbb0"}],"ips":[{"address":"10.9.9.3/24","interface":0}]}}`;
  t.is(readFileSync(cacheFile, 'utf8'), expected);
  t.is(statSync(cacheFile).mode & 0o777, 0o600);
  t.is(statSync(join(r.cache, 'results')).mode & 0o777, 0o700);

  const check = await r.tscni(['check', 'fake', netns], env);
  t.is(check.code, 0, check.stderr);
  const del = await r.tscni(['del', 'fake', netns], env);
  t.is(del.code, 0, del.stderr);
  const after = calls(r).slice(2);
  t.deepEqual(after.map((c) => `${c.type}:${c.cmd}`), ['aa:CHECK', 'bbb:CHECK', 'bbb:DEL', 'aa:DEL']);
  for (const c of after) t.deepEqual(c.conf.prevResult, bResult, `${c.type} ${c.cmd} gets the cached result`);
  t.false(existsSync(cacheFile));

  // GC: an attachment whose netns is gone gets a DEL first; the live one is passed as valid.
  await r.tscni(['add', 'fake', netns], env);
  const gone = join(r.dir, 'gone-netns');
  writeFileSync(gone, '');
  await r.tscni(['add', 'fake', gone], env);
  const { rmSync } = await import('node:fs');
  rmSync(gone);
  const n0 = calls(r).length;
  const gc = await r.tscni(['gc', 'fake', netns], env);
  t.is(gc.code, 0, gc.stderr);
  const gcCalls = calls(r).slice(n0);
  t.deepEqual(gcCalls.map((c) => `${c.type}:${c.cmd}:${c.id}`), [`bbb:DEL:${cnitoolId(gone)}`, `aa:DEL:${cnitoolId(gone)}`, 'aa:GC:', 'bbb:GC:']);
  t.deepEqual(gcCalls[2].conf['cni.dev/valid-attachments'], [{ containerID: id, ifname: 'eth0' }]);
  t.deepEqual(readdirSync(join(r.cache, 'results')), [`fake-${id}-eth0`]);

  const n1 = calls(r).length;
  const st = await r.tscni(['status', 'fake', netns], env);
  t.is(st.code, 0, st.stderr);
  t.deepEqual(calls(r).slice(n1).map((c) => `${c.type}:${c.cmd}`), ['aa:STATUS', 'bbb:STATUS']);
});

test.serial('errors name the plugin type and network; .conf files become one-plugin lists; NETCONFPATH order', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'ce');
  const bin = fakePlugin(r, 'aa');
  fakePlugin(r, 'bad', { fail: 'ADD' });
  writeConf(r, '20-one.conf', { cniVersion: '1.0.0', name: 'one', type: 'aa' });
  writeConf(r, '10-one.json', { cniVersion: '1.0.0', name: 'one', type: 'bad' });
  writeConf(r, '30-one.conflist', { cniVersion: '1.0.0', name: 'one', plugins: [{ type: 'bad' }] });
  // The .conflist wins over the .conf/.json files even though it sorts last.
  const add = await r.tscni(['add', 'one', r.host.path], { CNI_PATH: bin });
  t.is(add.code, 1);
  t.is(add.stderr, 'tscni: plugin type="bad" name="one" failed (add): bad says no\n');
  const { rmSync } = await import('node:fs');
  rmSync(join(r.netconf, '30-one.conflist'));
  // Then lexical order among .conf/.json: 10-one.json (bad) before 20-one.conf.
  const add2 = await r.tscni(['add', 'one', r.host.path], { CNI_PATH: bin });
  t.is(add2.stderr, 'tscni: plugin type="bad" name="one" failed (add): bad says no\n');
  rmSync(join(r.netconf, '10-one.json'));
  const add3 = await r.tscni(['add', 'one', r.host.path], { CNI_PATH: bin, CNI_IFNAME: 'net1', CNI_CONTAINERID: 'given-id' });
  t.is(add3.code, 0, add3.stderr);
  const c = calls(r).at(-1)!;
  t.deepEqual([c.type, c.id, c.ifname], ['aa', 'given-id', 'net1']);
  t.deepEqual(c.conf, { cniVersion: '1.0.0', name: 'one', type: 'aa' });
  const cached = JSON.parse(readFileSync(join(r.cache, 'results', 'one-given-id-net1'), 'utf8'));
  t.deepEqual(JSON.parse(Buffer.from(cached.config, 'base64').toString()), { cniVersion: '1.0.0', name: 'one', plugins: [{ cniVersion: '1.0.0', name: 'one', type: 'aa' }] });
  const missing = await r.tscni(['add', 'nope', r.host.path], { CNI_PATH: bin });
  t.is(missing.code, 1);
  t.is(missing.stderr, `tscni: no net configuration with name "nope" in ${r.netconf}\n`);
  const notFound = await r.tscni(['add', 'one', r.host.path], { CNI_PATH: '/nonexistent' });
  t.regex(notFound.stderr, /^tscni: plugin type="aa" name="one" failed \(add\): failed to find plugin "aa" in path \[\/nonexistent\]\n$/);
});

/** Drives a real bridge + host-local + portmap + loopback chain on a container netns and checks the kernel. */
async function realChain(t: any, label: string, cniPath: string, version: string) {
  const r = makeRunnerEnv(t, label, cniPath);
  const ctr = makeNetns(t, `${label}c`);
  const file = writeConf(r, '10-real.conflist', {
    cniVersion: version,
    name: 'real',
    plugins: [
      { type: 'bridge', bridge: `tscnit${label}`, isGateway: true, ipam: { type: 'host-local', subnet: '10.99.31.0/24', dataDir: r.ipam } },
      { type: 'portmap', capabilities: { portMappings: true } },
      { type: 'loopback' },
    ],
  });
  const cap = { CAP_ARGS: JSON.stringify({ portMappings: [{ hostPort: 18080, containerPort: 80, protocol: 'tcp' }] }) };
  const add = await r.tscni(['add', 'real', ctr.path], cap);
  t.is(add.code, 0, add.stderr);
  const result = JSON.parse(add.stdout);
  t.is(result.cniVersion, version);
  const eth0 = ipJson(ctr, ['addr', 'show', 'eth0'])[0];
  t.deepEqual(eth0.addr_info.filter((a: any) => a.family === 'inet').map((a: any) => `${a.local}/${a.prefixlen}`), ['10.99.31.2/24']);
  t.is(result.ips.find((i: any) => i.address === '10.99.31.2/24')?.gateway, '10.99.31.1');
  t.true(leased(r.ipam, 'real', '10.99.31.2'));
  const id = cnitoolId(ctr.path);
  const cached = JSON.parse(readFileSync(join(r.cache, 'results', `real-${id}-eth0`), 'utf8'));
  t.deepEqual(Object.keys(cached), ['kind', 'containerId', 'config', 'ifName', 'networkName', 'netns', 'capabilityArgs', 'result']);
  t.is(cached.config, readFileSync(file).toString('base64'));
  t.deepEqual(cached.result, JSON.parse(add.stdout));
  t.is((await r.tscni(['check', 'real', ctr.path])).code, 0);
  const del = await r.tscni(['del', 'real', ctr.path], cap);
  t.is(del.code, 0, del.stderr);
  t.deepEqual(ipJson(ctr, ['link', 'show', 'type', 'veth']), []);
  t.false(leased(r.ipam, 'real', '10.99.31.2'));
  t.false(existsSync(join(r.cache, 'results', `real-${id}-eth0`)));
  t.is((await r.tscni(['del', 'real', ctr.path])).code, 0, 'a second DEL succeeds');
}

test.serial('the reference plugins from /usr/lib/cni (third-party plugins)', async (t) => {
  if (!requireRoot(t)) return;
  await realChain(t, 'rf', REF_BIN, '1.0.0');
});

test.serial(`tscni's plugins from dist/bin (${['bridge', 'host-local', 'portmap', 'loopback'].map((p) => `${p}: ${pluginDir(p) === DIST_BIN ? 'tscni' : 'reference'}`).join(', ')})`, async (t) => {
  if (!requireRoot(t)) return;
  await realChain(t, 'ts', CNI_PATH, chainVersion(['bridge', 'host-local', 'portmap', 'loopback']));
});

test.serial('add --dry-run: tscni plugins print their plans, third-party ones are described, nothing changes', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'cd');
  const ctr = makeNetns(t, 'cdc');
  writeConf(r, '10-dry.conflist', {
    cniVersion: '1.0.0',
    name: 'dry',
    plugins: [
      { type: 'bridge', bridge: 'tscnitcd', isGateway: true, ipam: { type: 'host-local', subnet: '10.99.32.0/24', dataDir: r.ipam } },
      { type: 'portmap', capabilities: { portMappings: true } },
      { type: 'tuning' },
    ],
  });
  const out = await r.tscni(['add', '--dry-run', 'dry', ctr.path], { CAP_ARGS: JSON.stringify({ portMappings: [{ hostPort: 18080, containerPort: 80, protocol: 'tcp' }] }) });
  t.is(out.code, 0, out.stderr);
  const entries = out.stdout.split(/\n(?=\{)/).map((s) => JSON.parse(s));
  t.deepEqual(entries.map((e) => [e.plugin, e.path]), [['bridge', join(pluginDir('bridge'), 'bridge')], ['portmap', join(pluginDir('portmap'), 'portmap')], ['tuning', join(REF_BIN, 'tuning')]]);
  t.is(entries[2].note, 'third-party plugin: not executed in dry-run');
  t.deepEqual(entries[2].stdin.prevResult.ips, [{ address: '10.99.32.2/24', gateway: '10.99.32.1', interface: 2 }]);
  for (const e of entries.slice(0, 2)) if (pluginDir(e.plugin) === DIST_BIN) t.true(e.plan.tscniDryRun, `${e.plugin} printed its plan`);
  t.deepEqual(ipJson(r.host, ['link', 'show', 'type', 'bridge']), []);
  t.deepEqual(ipJson(ctr, ['link', 'show', 'type', 'veth']), []);
  t.false(existsSync(join(r.cache, 'results')));
});

test.serial('plugins from <NETCONFPATH>/<name>/*.conf are appended unless loadOnlyInlinedPlugins', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'cx');
  const bin = fakePlugin(r, 'aa');
  fakePlugin(r, 'bbb');
  writeConf(r, '10-ext.conflist', { cniVersion: '1.1.0', name: 'ext', plugins: [{ type: 'aa' }] });
  mkdirSync(join(r.netconf, 'ext'));
  writeConf(r, 'ext/20-b.conf', { type: 'bbb', x: 1 });
  writeConf(r, 'ext/10-a.conf', { type: 'aa', y: 2 });
  writeConf(r, 'ext/30-skip.json', { type: 'bbb' });
  const add = await r.tscni(['add', 'ext', r.host.path], { CNI_PATH: bin });
  t.is(add.code, 0, add.stderr);
  t.deepEqual(calls(r).map((c) => [c.type, c.conf.y ?? c.conf.x ?? 0]), [['aa', 0], ['aa', 2], ['bbb', 1]]);
  writeConf(r, '10-ext.conflist', { cniVersion: '1.1.0', name: 'ext', loadOnlyInlinedPlugins: true, plugins: [{ type: 'aa' }] });
  const add2 = await r.tscni(['add', '--id', 'other', 'ext', r.host.path], { CNI_PATH: bin });
  t.is(add2.code, 0, add2.stderr);
  t.is(calls(r).length, 4);
  writeConf(r, '10-ext.conflist', { cniVersion: '1.1.0', name: 'ext', loadOnlyInlinedPlugins: true });
  const bad = await r.tscni(['add', 'ext', r.host.path], { CNI_PATH: bin });
  t.is(bad.code, 1);
  t.is(bad.stderr, `tscni: invalid loadOnlyInlinedPlugins in ${join(r.netconf, '10-ext.conflist')}: true needs an inline plugins list\n`);
});
