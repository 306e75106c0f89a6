// The one validation layer for names that become kernel or file names: exact codes and messages.

import test from 'ava';
import { errorOf } from '../../helpers/errors.ts';
import { checkIfname, checkPluginType, validateIfname, validateNetworkName, NETWORK_NAME_MAX } from '../../../lib/cni/names.ts';
import { readEnv } from '../../../lib/cni/env.ts';

const CHARS = 'an interface name is 1-15 characters of A-Z a-z 0-9 _ . -';

test('interface names: exact messages, code 7 for a config field and 4 for CNI_IFNAME', (t) => {
  const rows: [unknown, string][] = [
    ['advé', `contains U+00E9; ${CHARS}`],
    ['a b', `contains U+0020; ${CHARS}`],
    ['a\tb', `contains U+0009; ${CHARS}`],
    ['a/b', `contains "/"; ${CHARS}`],
    ['a:b', `contains ":"; ${CHARS}`],
    ['eth%d', `contains "%"; ${CHARS}`],
    ['br0\u0000', `contains U+0000; ${CHARS}`],
    ['x'.repeat(16), 'is 16 characters long; a Linux interface name has at most 15'],
    ['.', 'is not an interface name ("." and ".." are directories)'],
    ['..', 'is not an interface name ("." and ".." are directories)'],
    ['', 'must not be empty'],
    [7, 'must be a string, got number'],
    [null, 'must be a string, got null'],
  ];
  for (const [name, why] of rows) {
    t.deepEqual(errorOf(() => checkIfname(name, 'bridge')), [7, `invalid bridge ${JSON.stringify(name)}: ${why}`], String(name));
    if (typeof name === 'string') t.deepEqual(errorOf(() => validateIfname(name)), [4, `invalid CNI_IFNAME ${JSON.stringify(name)}: ${why}`]);
  }
  for (const ok of ['eth0', 'x'.repeat(15), 'br-1.100', 'cni_podman0', '-x', '...']) t.is(checkIfname(ok, 'bridge'), ok);
});

test('CNI_IFNAME is checked for ADD, DEL and CHECK as code 4', (t) => {
  const env = { CNI_CONTAINERID: 'c', CNI_NETNS: '/var/run/netns/x', CNI_PATH: '/x' };
  for (const cmd of ['ADD', 'DEL', 'CHECK']) {
    t.deepEqual(errorOf(() => readEnv({ ...env, CNI_COMMAND: cmd, CNI_IFNAME: 'eté0' })), [4, `invalid CNI_IFNAME "eté0": contains U+00E9; ${CHARS}`]);
  }
});

test('network names: libcni characters and at most 128 characters, code 7 naming name, value and limit', (t) => {
  t.is(NETWORK_NAME_MAX, 128);
  t.is(validateNetworkName('n'.repeat(128)), 'n'.repeat(128));
  const long = 'n'.repeat(129);
  t.deepEqual(errorOf(() => validateNetworkName(long)), [
    7,
    `invalid name "${long}": a network name is at most 128 characters (it names the directory <dataDir>/<name> and result cache files), this one is 129`,
  ]);
  for (const bad of ['../x', 'a/b', ' x', '.', 'né', '-x']) {
    t.deepEqual(errorOf(() => validateNetworkName(bad)), [7, `invalid name ${JSON.stringify(bad)}: a network name must match ^[A-Za-z0-9][A-Za-z0-9_.-]*$`]);
  }
  t.deepEqual(errorOf(() => validateNetworkName(5)), [7, 'invalid name 5: must be a string, got number']);
  t.deepEqual(errorOf(() => validateNetworkName('')), [7, 'missing network name']);
});

test('plugin types are file names in CNI_PATH', (t) => {
  t.is(checkPluginType('host-local', 'ipam.type'), 'host-local');
  for (const bad of ['', '.', '..', 'a/b', '/usr/bin/x', 'a\u0000b']) {
    t.deepEqual(errorOf(() => checkPluginType(bad, 'type')), [7, `invalid type ${JSON.stringify(bad)}: must be a plugin name: a file name in CNI_PATH without "/"`]);
  }
});
