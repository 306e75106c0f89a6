import test from 'ava';
import { errorOf } from '../../helpers/errors.ts';
import { readEnv, parseCniArgs, validateIfname, validateNetworkName } from '../../../lib/cni/env.ts';
import { selectVersion, compareVersions } from '../../../lib/cni/version.ts';

const base = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'abc', CNI_NETNS: '/var/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin:/usr/lib/cni' };
const codeOf = errorOf;

test('a full ADD env parses', (t) => {
  t.deepEqual(readEnv(base), { command: 'ADD', containerId: 'abc', netns: '/var/run/netns/x', ifname: 'eth0', args: '', path: ['/opt/cni/bin', '/usr/lib/cni'] });
});

test('no CNI_COMMAND means "about"', (t) => {
  t.is(readEnv({}), undefined);
});

test('unknown verb is code 4', (t) => {
  const [code, msg] = codeOf(() => readEnv({ ...base, CNI_COMMAND: 'FROB' }));
  t.is(code, 4);
  t.regex(msg as string, /FROB/);
});

test('container id: empty is 3, bad characters are 4 naming the variable', (t) => {
  t.is(codeOf(() => readEnv({ ...base, CNI_CONTAINERID: '' }))[0], 3);
  for (const id of ['../../etc', 'a b', '-x', '.hidden', 'a/b']) {
    const [code, msg] = codeOf(() => readEnv({ ...base, CNI_CONTAINERID: id }));
    t.is(code, 4, id);
    t.regex(msg as string, /CNI_CONTAINERID/);
  }
  t.is(codeOf(() => readEnv({ ...base, CNI_CONTAINERID: 'A0_b.c-d' }))[0], 0);
});

test('ifname rules as libcni', (t) => {
  for (const name of ['a'.repeat(16), 'a/b', '..', '.', 'a:b', 'a b', 'a\tb']) {
    const [code, msg] = codeOf(() => validateIfname(name));
    t.is(code, 4, name);
    t.regex(msg as string, /CNI_IFNAME/);
  }
  t.is(validateIfname('a'.repeat(15)), 'a'.repeat(15));
  t.is(codeOf(() => readEnv({ ...base, CNI_IFNAME: 'x'.repeat(16) }))[0], 4);
});

test('required variables per verb', (t) => {
  const [code, msg] = codeOf(() => readEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'a', CNI_IFNAME: 'eth0' }));
  t.is(code, 4);
  t.is(msg, 'required env variables [CNI_NETNS,CNI_PATH] missing');
  t.is(codeOf(() => readEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'a', CNI_IFNAME: 'eth0', CNI_PATH: '/x' }))[0], 0);
  t.is(codeOf(() => readEnv({ CNI_COMMAND: 'GC', CNI_PATH: '/x' }))[0], 0);
  t.is(codeOf(() => readEnv({ CNI_COMMAND: 'STATUS' }))[0], 4);
  t.is(codeOf(() => readEnv({ CNI_COMMAND: 'VERSION' }))[0], 0);
});

test('CNI_ARGS: known keys, IgnoreUnknown, case-sensitive keys', (t) => {
  t.deepEqual([...parseCniArgs('IP=10.0.0.5;MAC=aa:bb:cc:dd:ee:ff', ['IP', 'MAC'])], [['IP', '10.0.0.5'], ['MAC', 'aa:bb:cc:dd:ee:ff']]);
  t.is(codeOf(() => parseCniArgs('ip=10.0.0.5', ['IP']))[0], 4);
  t.deepEqual([...parseCniArgs('IgnoreUnknown=1;K8S_POD_NAME=x;IP=1.2.3.4', ['IP'])], [['IP', '1.2.3.4']]);
  t.deepEqual([...parseCniArgs('K8S_POD_NAME=x;IgnoreUnknown=true', [])], []);
  t.is(codeOf(() => parseCniArgs('garbage', ['IP']))[0], 4);
  t.deepEqual([...parseCniArgs('', ['IP'])], []);
});

test('network names are path-safe', (t) => {
  for (const n of ['../x', 'a/b', '', ' x', '.', 'x'.repeat(129)]) t.is(codeOf(() => validateNetworkName(n))[0], 7, n);
  t.is(validateNetworkName('my-net_1.0'), 'my-net_1.0');
});

test('version selection picks the highest supported of cniVersion + cniVersions', (t) => {
  t.is(selectVersion({ cniVersion: '0.4.0', cniVersions: ['1.0.0', '1.1.0', '9.9.9'] }), '1.1.0');
  t.is(selectVersion({ cniVersions: ['0.3.1', '1.0.0'] }), '1.0.0');
  t.is(selectVersion({}), '0.1.0');
  t.is(selectVersion({ cniVersion: null, cniVersions: null }), '0.1.0', 'null is absent, as Go reads it');
  t.is(selectVersion({ cniVersion: '9.9.9' }), '9.9.9');
  t.true(compareVersions('0.10.0', '0.9.0') > 0);
});
