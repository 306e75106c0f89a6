import test from 'ava';
import { runPlugin, type Io, type Plugin } from '../../../lib/cni/skel.ts';
import { CniError } from '../../../lib/cni/errors.ts';

function fakeIo(env: Record<string, string>, stdin: string) {
  const out = { stdout: '', stderr: '' };
  const io: Io = { env, readStdin: () => Buffer.from(stdin), stdout: (s) => (out.stdout += s), stderr: (s) => (out.stderr += s) };
  return { io, out };
}

const calls: string[] = [];
const plugin: Plugin = {
  about: 'test plugin',
  add: async (ctx) => {
    calls.push(`add ${ctx.version}`);
    return { ips: [{ address: '10.0.0.2/24', gateway: '10.0.0.1' }] };
  },
  del: async () => void calls.push('del'),
  check: async () => {
    throw new CniError(7, 'check failed: address 10.0.0.2 is gone');
  },
  status: async () => void calls.push('status'),
  gc: async () => void calls.push('gc'),
};
const env = { CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0', CNI_PATH: '/x' };

test('no CNI_COMMAND prints about to stderr and exits 0', async (t) => {
  const { io, out } = fakeIo({}, '');
  t.is(await runPlugin(plugin, io), 0);
  t.is(out.stdout, '');
  t.regex(out.stderr, /^test plugin\nCNI protocol versions supported: 0\.1\.0, 0\.2\.0, 0\.3\.0, 0\.3\.1, 0\.4\.0, 1\.0\.0, 1\.1\.0\n$/);
});

test('VERSION echoes a valid input version', async (t) => {
  const { io, out } = fakeIo({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.4.0"}');
  t.is(await runPlugin(plugin, io), 0);
  t.deepEqual(JSON.parse(out.stdout), { cniVersion: '0.4.0', supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
});

test('VERSION with no stdin answers the latest', async (t) => {
  const { io, out } = fakeIo({ CNI_COMMAND: 'VERSION' }, '');
  t.is(await runPlugin(plugin, io), 0);
  t.is(JSON.parse(out.stdout).cniVersion, '1.1.0');
});

test('VERSION with an unknown version is code 1', async (t) => {
  const { io, out } = fakeIo({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"9.9.9"}');
  t.is(await runPlugin(plugin, io), 1);
  t.is(JSON.parse(out.stdout).code, 1);
});

test('empty stdin is code 6, and so is broken JSON, with where it broke', async (t) => {
  for (const [stdin, re] of [['', /stdin is empty/], ['{"name":', /error decoding network config/], ['[1]', /expected a JSON object, got an array/]] as const) {
    const { io, out } = fakeIo(env, stdin);
    t.is(await runPlugin(plugin, io), 1);
    const e = JSON.parse(out.stdout);
    t.is(e.code, 6);
    t.regex(e.msg, re);
    t.is(e.cniVersion, '1.1.0');
  }
});

test('unknown cniVersion is code 1 and the error echoes it... as the latest we speak', async (t) => {
  const { io, out } = fakeIo(env, '{"cniVersion":"9.9.9","name":"n"}');
  t.is(await runPlugin(plugin, io), 1);
  t.deepEqual(JSON.parse(out.stdout), {
    cniVersion: '1.1.0',
    code: 1,
    msg: 'incompatible CNI versions; config is "9.9.9", plugin supports ["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]',
  });
});

test('CHECK below 0.4.0 and GC/STATUS below 1.1.0 are code 1', async (t) => {
  for (const [cmd, v] of [['CHECK', '0.3.1'], ['GC', '1.0.0'], ['STATUS', '0.4.0']]) {
    const { io, out } = fakeIo({ ...env, CNI_COMMAND: cmd, CNI_NETNS: '/proc/self/ns/net' }, JSON.stringify({ cniVersion: v, name: 'n' }));
    t.is(await runPlugin(plugin, io), 1, cmd);
    const e = JSON.parse(out.stdout);
    t.is(e.code, 1);
    t.is(e.cniVersion, v);
  }
});

test('errors thrown by a verb become the error JSON in the config version', async (t) => {
  const { io, out } = fakeIo({ ...env, CNI_COMMAND: 'CHECK', CNI_NETNS: '/proc/self/ns/net' }, '{"cniVersion":"1.0.0","name":"n"}');
  t.is(await runPlugin(plugin, io), 1);
  t.deepEqual(JSON.parse(out.stdout), { cniVersion: '1.0.0', code: 7, msg: 'check failed: address 10.0.0.2 is gone' });
});

test('ADD prints the result converted to the config version', async (t) => {
  const { io, out } = fakeIo({ ...env, CNI_COMMAND: 'ADD', CNI_NETNS: '/proc/self/ns/net' }, '{"cniVersion":"0.3.1","name":"n"}');
  t.is(await runPlugin(plugin, io), 0);
  t.deepEqual(JSON.parse(out.stdout), { cniVersion: '0.3.1', ips: [{ version: '4', address: '10.0.0.2/24', gateway: '10.0.0.1' }] });
});

test('network name with a slash is code 7', async (t) => {
  const { io, out } = fakeIo(env, '{"cniVersion":"1.0.0","name":"../x"}');
  t.is(await runPlugin(plugin, io), 1);
  t.is(JSON.parse(out.stdout).code, 7);
});

test('a thrown plain Error becomes code 999 without a stack trace', async (t) => {
  const bad: Plugin = { ...plugin, del: async () => { throw new TypeError('boom'); } };
  const { io, out } = fakeIo(env, '{"cniVersion":"1.0.0","name":"n"}');
  t.is(await runPlugin(bad, io), 1);
  t.deepEqual(JSON.parse(out.stdout), { cniVersion: '1.0.0', code: 999, msg: 'boom' });
  t.is(out.stderr, '');
});

test('ADD/CHECK refuse a CNI_NETNS that is not a netns', async (t) => {
  for (const [path, code, re] of [['/etc/hostname', 4, /not a network namespace \(a regular file\)/], ['/tmp', 4, /a directory/], ['/nonexistent/ns', 4, /no such file/]] as const) {
    const { io, out } = fakeIo({ ...env, CNI_COMMAND: 'ADD', CNI_NETNS: path }, '{"cniVersion":"1.0.0","name":"n"}');
    t.is(await runPlugin(plugin, io), 1);
    const e = JSON.parse(out.stdout);
    t.is(e.code, code, path);
    t.regex(e.msg, re);
    t.true(e.msg.includes('CNI_NETNS'));
  }
});
