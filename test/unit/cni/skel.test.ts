import test from 'ava';
import { runPlugin, type Io, type Plugin } from '../../../lib/cni/skel.ts';
import { statSync } from 'node:fs';
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
/** A plugin of its own for a test that asserts which verbs ran (ava runs the tests of a file concurrently). */
function recording(): { p: Plugin; ran: string[] } {
  const ran: string[] = [];
  return { ran, p: { ...plugin, add: async (ctx) => (ran.push('add'), plugin.add(ctx)), del: async () => void ran.push('del'), check: async () => void ran.push('check') } };
}
const env = { CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0', CNI_PATH: '/x' };

test('no CNI_COMMAND (unset or empty) prints about to stderr and exits 0, whatever else is set, and calls no verb', async (t) => {
  const { p, ran } = recording();
  for (const e of [{}, { CNI_COMMAND: '' }, { ...env, CNI_COMMAND: '' }] as Record<string, string>[]) {
    const { io, out } = fakeIo(e, '{"cniVersion":"1.0.0","name":"n"}');
    t.is(await runPlugin(p, io), 0);
    t.is(out.stdout, '');
    t.is(out.stderr, 'test plugin\nCNI protocol versions supported: 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0\n');
  }
  t.deepEqual(ran, []);
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
    const { io, out } = fakeIo({ ...env, CNI_COMMAND: cmd, CNI_NETNS: '/proc/self/ns/net', CNI_NETNS_OVERRIDE: '1' }, JSON.stringify({ cniVersion: v, name: 'n' }));
    t.is(await runPlugin(plugin, io), 1, cmd);
    const e = JSON.parse(out.stdout);
    t.is(e.code, 1);
    t.is(e.cniVersion, v);
  }
});

test('errors thrown by a verb become the error JSON in the config version', async (t) => {
  const { io, out } = fakeIo({ ...env, CNI_COMMAND: 'CHECK', CNI_NETNS: '/proc/self/ns/net', CNI_NETNS_OVERRIDE: '1' }, '{"cniVersion":"1.0.0","name":"n"}');
  t.is(await runPlugin(plugin, io), 1);
  t.deepEqual(JSON.parse(out.stdout), { cniVersion: '1.0.0', code: 7, msg: 'check failed: address 10.0.0.2 is gone' });
});

test('ADD prints the result converted to the config version', async (t) => {
  const { io, out } = fakeIo({ ...env, CNI_COMMAND: 'ADD', CNI_NETNS: '/proc/self/ns/net', CNI_NETNS_OVERRIDE: '1' }, '{"cniVersion":"0.3.1","name":"n"}');
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

test('CNI_NETNS that is the plugin\'s own netns: code 4 for ADD, CHECK and DEL, before any verb runs', async (t) => {
  const ino = statSync('/proc/self/ns/net').ino;
  const { p, ran } = recording();
  for (const cmd of ['ADD', 'CHECK', 'DEL']) {
    for (const path of ['/proc/self/ns/net', `/proc/${process.pid}/ns/net`, `/proc/${process.pid}/task/${process.pid}/ns/net`]) {
      const { io, out } = fakeIo({ ...env, CNI_COMMAND: cmd, CNI_NETNS: path }, '{"cniVersion":"1.0.0","name":"n"}');
      t.is(await runPlugin(p, io), 1, `${cmd} ${path}`);
      t.deepEqual(JSON.parse(out.stdout), {
        cniVersion: '1.0.0',
        code: 4,
        msg: `invalid CNI_NETNS ${JSON.stringify(path)}: is the plugin's own network namespace (net:[${ino}]), not a container's`,
      });
    }
  }
  t.deepEqual(ran, []);
});

test('DEL forgives a CNI_NETNS that is gone or no longer a namespace; CNI_NETNS_OVERRIDE=true allows the own netns (libcni)', async (t) => {
  const { p, ran } = recording();
  const cases: Record<string, string>[] = [{ CNI_NETNS: '/nonexistent/ns' }, { CNI_NETNS: '/etc/hostname' }, { CNI_NETNS: '' }, { CNI_NETNS: '/proc/self/ns/net', CNI_NETNS_OVERRIDE: 'true' }];
  for (const extra of cases) {
    const { io, out } = fakeIo({ ...env, ...extra }, '{"cniVersion":"1.0.0","name":"n"}');
    t.is(await runPlugin(p, io), 0, out.stdout);
  }
  t.deepEqual(ran, ['del', 'del', 'del', 'del']);
});

test('a plugin that never enters CNI_NETNS (IPAM) takes its own netns, but still needs a namespace file for ADD', async (t) => {
  const ipam: Plugin = { ...plugin, actsInNetns: false };
  for (const cmd of ['ADD', 'DEL']) {
    const { io, out } = fakeIo({ ...env, CNI_COMMAND: cmd, CNI_NETNS: '/proc/self/ns/net' }, '{"cniVersion":"1.0.0","name":"n"}');
    t.is(await runPlugin(ipam, io), 0, out.stdout);
  }
  const { io, out } = fakeIo({ ...env, CNI_COMMAND: 'ADD', CNI_NETNS: '/etc/hostname' }, '{"cniVersion":"1.0.0","name":"n"}');
  t.is(await runPlugin(ipam, io), 1);
  t.is(JSON.parse(out.stdout).msg, 'CNI_NETNS "/etc/hostname" is not a network namespace (a regular file)');
});

test('a cniVersion that is not a string is code 1, like a version tscni does not speak', async (t) => {
  const rows: [string, string][] = [
    ['{"cniVersion":1,"name":"n"}', 'invalid cniVersion 1: must be a version string, one of 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0'],
    ['{"cniVersion":{},"name":"n"}', 'invalid cniVersion {}: must be a version string, one of 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0'],
    ['{"cniVersion":"1.0.0","cniVersions":"1.1.0","name":"n"}', 'invalid cniVersions "1.1.0": must be a list of version strings'],
    ['{"cniVersions":[1],"name":"n"}', 'invalid cniVersions [1]: must be a list of version strings'],
  ];
  for (const [stdin, msg] of rows) {
    const { io, out } = fakeIo(env, stdin);
    t.is(await runPlugin(plugin, io), 1);
    t.deepEqual(JSON.parse(out.stdout), { cniVersion: '1.1.0', code: 1, msg }, stdin);
  }
});

test('a well-known key of the wrong type is code 7 naming the key, for every plugin', async (t) => {
  const rows: [Record<string, unknown>, string][] = [
    [{ name: 5 }, 'invalid name 5: must be a string, got number'],
    [{ name: ['n'] }, 'invalid name ["n"]: must be a string, got an array'],
    [{ type: 5 }, 'invalid type 5: must be a plugin name (a string)'],
    [{ type: '../bridge' }, 'invalid type "../bridge": must be a plugin name: a file name in CNI_PATH without "/"'],
    [{ ipam: 'host-local' }, 'invalid ipam "host-local": must be an object, got string'],
    [{ ipam: { type: ['host-local'] } }, 'invalid ipam.type ["host-local"]: must be a plugin name (a string)'],
    [{ dns: [] }, 'invalid dns []: must be an object, got a list'],
    [{ runtimeConfig: 'x' }, 'invalid runtimeConfig "x": must be an object, got string'],
    [{ args: 1 }, 'invalid args 1: must be an object, got number'],
    [{ capabilities: true }, 'invalid capabilities true: must be an object, got boolean'],
    [{ ipMasq: 'yes' }, 'invalid ipMasq "yes": must be true or false'],
    [{ disableCheck: 1 }, 'invalid disableCheck 1: must be true or false'],
    [{ disableGC: 'false' }, 'invalid disableGC "false": must be true or false'],
  ];
  for (const [extra, msg] of rows) {
    const { io, out } = fakeIo(env, JSON.stringify({ cniVersion: '1.0.0', name: 'n', ...extra }));
    t.is(await runPlugin(plugin, io), 1);
    t.deepEqual(JSON.parse(out.stdout), { cniVersion: '1.0.0', code: 7, msg }, JSON.stringify(extra));
  }
  const { io } = fakeIo(env, JSON.stringify({ cniVersion: '1.0.0', name: 'n', type: 'x', ipam: null, dns: null, ipMasq: null }));
  t.is(await runPlugin(plugin, io), 0, 'null is absent');
});

test('a network name longer than 128 characters is code 7 naming it and the limit', async (t) => {
  const name = 'a'.repeat(300);
  const { io, out } = fakeIo(env, JSON.stringify({ cniVersion: '1.0.0', name }));
  t.is(await runPlugin(plugin, io), 1);
  t.deepEqual(JSON.parse(out.stdout), {
    cniVersion: '1.0.0',
    code: 7,
    msg: `invalid name "${name}": a network name is at most 128 characters (it names the directory <dataDir>/<name> and result cache files), this one is 300`,
  });
});
