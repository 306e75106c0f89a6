// Network configuration lists as libcni loads them: parsing and validation, .conf wrapping, lookup order in a
// directory, plugins appended from <dir>/<name>/*.conf unless loadOnlyInlinedPlugins.

import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { confListFromBytes, confListFromConf, loadAllConfLists, loadConfList } from '../../../lib/libcni/conflist.ts';
import { errorOf } from '../../helpers/errors.ts';

const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tscni-unit-conflist-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a list: name, highest supported version, flags, plugins, the bytes as given', (t) => {
  const raw = { cniVersion: '1.0.0', cniVersions: ['0.4.0', '1.1.0'], name: 'n1', disableCheck: true, plugins: [{ type: 'bridge' }, { type: 'portmap', capabilities: { portMappings: true } }] };
  const l = confListFromBytes(bytes(raw), '/etc/cni/net.d/10-n1.conflist');
  t.deepEqual({ ...l, bytes: l.bytes.toString() }, {
    name: 'n1', cniVersion: '1.1.0', disableCheck: true, disableGC: false,
    plugins: [{ type: 'bridge' }, { type: 'portmap', capabilities: { portMappings: true } }],
    bytes: JSON.stringify(raw), file: '/etc/cni/net.d/10-n1.conflist',
  });
  t.is(confListFromBytes(bytes({ name: 'old', plugins: [{ type: 'x' }] }), 'f').cniVersion, '0.1.0');
});

test('invalid lists: every message names the file and the field', (t) => {
  t.deepEqual(errorOf(() => confListFromBytes(bytes('{'), 'f')), [6, "error parsing configuration list f: Expected property name or '}' in JSON at position 1 (line 1 column 2)"]);
  t.deepEqual(errorOf(() => confListFromBytes(bytes('[]'), 'f')), [6, 'error parsing configuration list f: not a JSON object']);
  t.deepEqual(errorOf(() => confListFromBytes(bytes({ plugins: [{ type: 'x' }] }), 'f')), [7, 'missing network name']);
  t.deepEqual(errorOf(() => confListFromBytes(bytes({ name: 'n', plugins: [] }), 'f')), [7, 'invalid plugins in f: no plugins in list']);
  t.deepEqual(errorOf(() => confListFromBytes(bytes({ name: 'n' }), 'f')), [7, 'invalid plugins in f: no plugins in list']);
  t.deepEqual(errorOf(() => confListFromBytes(bytes({ name: 'n', plugins: {} }), 'f')), [7, 'invalid plugins in f: must be a list']);
  t.deepEqual(errorOf(() => confListFromBytes(bytes({ name: 'n', plugins: ['x'] }), 'f')), [7, 'invalid plugins[0] in f: must be an object']);
  t.deepEqual(errorOf(() => confListFromBytes(bytes({ name: 'n', plugins: [{ type: 'a' }, { type: '' }] }), 'f')), [7, 'invalid plugins[1].type "" in f: missing plugin type']);
  t.deepEqual(errorOf(() => confListFromBytes(bytes({ name: 'n', disableGC: 'yes', plugins: [{ type: 'a' }] }), 'f')), [7, 'invalid disableGC "yes" in f: must be true or false']);
  t.deepEqual(errorOf(() => confListFromBytes(bytes({ name: 'n', loadOnlyInlinedPlugins: true }), 'f')), [7, 'invalid loadOnlyInlinedPlugins in f: true needs an inline plugins list']);
});

test('a single .conf becomes a one-plugin list with its name and versions', (t) => {
  const conf = { cniVersion: '0.4.0', name: 'single', type: 'bridge', bridge: 'br1' };
  const l = confListFromConf(bytes(conf), 'c.conf');
  t.is(l.name, 'single');
  t.is(l.cniVersion, '0.4.0');
  t.deepEqual(l.plugins, [conf]);
  t.is(l.bytes.toString(), JSON.stringify({ cniVersion: '0.4.0', name: 'single', plugins: [conf] }));
  t.deepEqual(errorOf(() => confListFromConf(bytes({ name: 'x' }), 'c.conf')), [7, 'invalid type undefined in c.conf: missing plugin type']);
});

test('lookup in a directory: .conflist files first in lexical order, then .conf/.json; first name match wins', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, '20-b.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'net', plugins: [{ type: 'second' }] }));
  writeFileSync(join(dir, '10-a.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'net', plugins: [{ type: 'first' }] }));
  writeFileSync(join(dir, '00-c.conf'), JSON.stringify({ cniVersion: '1.0.0', name: 'net', type: 'conf' }));
  writeFileSync(join(dir, '05-d.json'), JSON.stringify({ cniVersion: '1.0.0', name: 'other', type: 'json' }));
  writeFileSync(join(dir, 'README'), 'not a config');
  t.deepEqual(loadConfList(dir, 'net').plugins, [{ type: 'first' }]);
  t.is(loadConfList(dir, 'other').file, join(dir, '05-d.json'));
  t.deepEqual(errorOf(() => loadConfList(dir, 'none')), [7, `no net configuration with name "none" in ${dir}`]);
  // As libcni: a list that does not parse stops a lookup that reaches it, but not one that matched before it.
  writeFileSync(join(dir, '30-broken.conflist'), '{');
  t.deepEqual(loadConfList(dir, 'net').plugins, [{ type: 'first' }]);
  t.deepEqual(errorOf(() => loadConfList(dir, 'other')), [6, `error parsing configuration list ${join(dir, '30-broken.conflist')}: Expected property name or '}' in JSON at position 1 (line 1 column 2)`]);
  const all = loadAllConfLists(dir);
  t.deepEqual(all.lists.map((l) => [l.name, l.plugins[0].type]), [['net', 'first'], ['net', 'second'], ['net', 'conf'], ['other', 'json']]);
  t.is(all.errors.length, 1);
  t.true(all.errors[0].startsWith(`${join(dir, '30-broken.conflist')}: error parsing configuration list`));
  t.deepEqual(loadAllConfLists(join(dir, 'missing')), { lists: [], errors: [] });
});

test('plugins from <dir>/<name>/*.conf are appended (and inlined in the cached bytes) unless loadOnlyInlinedPlugins', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'net'));
  writeFileSync(join(dir, 'net', 'b.conf'), JSON.stringify({ type: 'tuning' }));
  writeFileSync(join(dir, 'net', 'a.conf'), JSON.stringify({ type: 'firewall' }));
  writeFileSync(join(dir, 'net', 'c.json'), JSON.stringify({ type: 'ignored' }));
  const raw = { cniVersion: '1.1.0', name: 'net', plugins: [{ type: 'bridge' }] };
  writeFileSync(join(dir, '10-net.conflist'), JSON.stringify(raw));
  const l = loadConfList(dir, 'net');
  t.deepEqual(l.plugins.map((p) => p.type), ['bridge', 'firewall', 'tuning']);
  t.deepEqual(JSON.parse(l.bytes.toString()), { ...raw, plugins: [{ type: 'bridge' }, { type: 'firewall' }, { type: 'tuning' }], loadOnlyInlinedPlugins: true });
  writeFileSync(join(dir, '10-net.conflist'), JSON.stringify({ ...raw, loadOnlyInlinedPlugins: true }));
  t.deepEqual(loadConfList(dir, 'net').plugins.map((p) => p.type), ['bridge']);
});
