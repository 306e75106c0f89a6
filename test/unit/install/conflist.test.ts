// Pure parts of the installer: pod CIDR parsing, conflist rendering (pod CIDRs, cniVersion), argv parsing.

import test from 'ava';
import { parsePodCidr, renderConflist } from '../../../lib/install/conflist.ts';
import { parseInstallArgs, parseUninstallArgs } from '../../../lib/install/options.ts';

const FOUR = ['loopback', 'bridge', 'host-local', 'portmap'];
const conf = (ipam: object) => JSON.stringify({ cniVersion: '1.1.0', name: 'n', plugins: [{ type: 'bridge', ipam: { type: 'host-local', ...ipam } }, { type: 'portmap' }] });

test('parsePodCidr: IPv4 and IPv6 networks, normalised; anything else names the value', (t) => {
  t.is(parsePodCidr('10.244.3.0/24'), '10.244.3.0/24');
  t.is(parsePodCidr('FD00:10:244:3::/64'), 'fd00:10:244:3::/64');
  for (const bad of ['10.244.3.0', '10.244.3.0/33', '10.0.0.0/7', 'fd00::/63', 'x/24', '10.244.3.0/24 ', '']) {
    t.throws(() => parsePodCidr(bad), { message: `invalid pod CIDR ${JSON.stringify(bad)}: want an IPv4 /8-/32 or IPv6 /64-/128 network like 10.244.3.0/24` });
  }
});

test('renderConflist: pod CIDRs replace every host-local range (and subnet/rangeStart/rangeEnd/gateway), one set per family', (t) => {
  const r = renderConflist('/c/10-x.conflist', conf({ subnet: '10.1.0.0/16', rangeStart: '10.1.0.10', gateway: '10.1.0.1', routes: [{ dst: '0.0.0.0/0' }] }), FOUR, ['10.244.3.0/24', 'fd00::/64'], '1.0.0');
  t.is(r.name, '10-x.conflist');
  t.is(r.network, 'n');
  t.deepEqual(JSON.parse(r.text), {
    cniVersion: '1.0.0', name: 'n',
    plugins: [{ type: 'bridge', ipam: { type: 'host-local', routes: [{ dst: '0.0.0.0/0' }], ranges: [[{ subnet: '10.244.3.0/24' }], [{ subnet: 'fd00::/64' }]] } }, { type: 'portmap' }],
  });
});

test('renderConflist: without pod CIDRs or version the content is unchanged', (t) => {
  const text = conf({ ranges: [[{ subnet: '10.42.0.0/24' }]] });
  t.deepEqual(JSON.parse(renderConflist('/c/x.conflist', text, FOUR, []).text), JSON.parse(text));
});

test('renderConflist: refuses what the installed plugins cannot run, naming the field', (t) => {
  t.throws(() => renderConflist('/c/x', '{', FOUR, []), { message: /^conflist \/c\/x: not JSON: / });
  t.throws(() => renderConflist('/c/x', '[]', FOUR, []), { message: 'conflist /c/x: expected a JSON object' });
  t.throws(() => renderConflist('/c/x', '{"cniVersion":"1.0.0","plugins":[]}', FOUR, []), { message: 'conflist /c/x: missing "name"' });
  t.throws(() => renderConflist('/c/x', '{"cniVersion":"1.0.0","name":"n","plugins":[]}', FOUR, []), { message: 'conflist /c/x: "plugins" must be a non-empty list' });
  t.throws(() => renderConflist('/c/x', '{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge","ipam":{"type":"dhcp"}}]}', FOUR, []), {
    message: 'conflist /c/x: plugins[0].ipam.type "dhcp" is not an installed tscni plugin (loopback, bridge, host-local, portmap)',
  });
  t.throws(() => renderConflist('/c/x', '{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"loopback"}]}', FOUR, ['10.244.3.0/24']), {
    message: 'conflist /c/x: no host-local ipam to put the pod CIDR 10.244.3.0/24 in',
  });
});

test('parseInstallArgs: defaults, --flag=value, repeated --pod-cidr, exclusive flags', (t) => {
  const d = parseInstallArgs([]);
  t.deepEqual({ bin: d.binDir, conf: d.confDir, prefix: d.prefix, root: d.root, plugins: d.plugins }, {
    bin: '/opt/cni/bin', conf: '/etc/cni/net.d', prefix: '/opt/tscni', root: '/', plugins: FOUR,
  });
  const o = parseInstallArgs(['--bin-dir=/x/bin/', '--pod-cidr', '10.0.0.0/24', '--pod-cidr=fd00::/64', '--cni-version', '1.0.0']);
  t.is(o.binDir, '/x/bin');
  t.deepEqual(o.podCidrs, ['10.0.0.0/24', 'fd00::/64']);
  t.is(o.cniVersion, '1.0.0');
  t.throws(() => parseInstallArgs(['--cni-version', '0.2.0']), { message: '--cni-version "0.2.0": not one of 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0' });
  t.throws(() => parseInstallArgs(['--pod-cidr', '10.0.0.0/24', '--pod-cidr-from-node', 'n1']), { message: '--pod-cidr and --pod-cidr-from-node exclude each other' });
  t.throws(() => parseInstallArgs(['--pod-cidr-from-node', 'Node_1']), { message: '--pod-cidr-from-node "Node_1": not a Kubernetes node name' });
  t.throws(() => parseInstallArgs(['--no-conflist', '--conflist', '/a']), { message: '--conflist and --no-conflist exclude each other' });
  t.deepEqual(parseUninstallArgs(['--root', '/host', '--force']), { prefix: '/opt/tscni', root: '/host', force: true, help: false });
});
