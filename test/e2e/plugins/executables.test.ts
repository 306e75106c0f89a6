// Every built plugin answers the protocol basics when exec'd like a runtime does: minimal env, any cwd, no HOME.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DIST_BIN } from '../../helpers/plugin.ts';

const plugins = readdirSync(DIST_BIN).filter((n) => n !== 'tscni');
const run = (bin: string, env: Record<string, string>, input: string, cwd = '/tmp') =>
  spawnSync(join(DIST_BIN, bin), [], { env: { PATH: '/usr/bin:/bin', ...env }, input, cwd, encoding: 'utf8' });

test('dist/bin holds the plugins', (t) => {
  for (const p of ['loopback']) t.true(plugins.includes(p), p);
});

for (const p of plugins) {
  test(`${p}: VERSION from / with PATH=/usr/bin:/bin and no HOME`, (t) => {
    const r = run(p, { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.3.1"}', '/');
    t.is(r.status, 0, r.stderr);
    t.deepEqual(JSON.parse(r.stdout), { cniVersion: '0.3.1', supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  });

  test(`${p}: no CNI_COMMAND (unset or empty) prints the about line on stderr only, exit 0, whatever else is set (README)`, (t) => {
    const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'n', type: p, bridge: 'tabout0', ipam: { type: 'host-local', subnet: '10.98.0.0/24', dataDir: '/nonexistent' } });
    const runtimeEnv = { CNI_CONTAINERID: 'c', CNI_NETNS: '/proc/self/ns/net', CNI_IFNAME: 'eth0', CNI_PATH: DIST_BIN };
    for (const [env, input] of [[{}, ''], [{ CNI_COMMAND: '' }, ''], [runtimeEnv, conf], [{ ...runtimeEnv, CNI_COMMAND: '' }, conf]] as const) {
      const r = run(p, env, input);
      t.is(r.status, 0);
      t.is(r.stdout, '');
      t.regex(r.stderr, /^tscni .*\nCNI protocol versions supported: 0\.1\.0, 0\.2\.0, 0\.3\.0, 0\.3\.1, 0\.4\.0, 1\.0\.0, 1\.1\.0\n$/);
    }
  });

  test(`${p}: hostile input gets error JSON, never a stack trace`, (t) => {
    const inputs = ['', '\u0000\u0001', '{"cniVersion":"1.0.0","name":"n","type":"' + p + '","prevResult":"x"}', 'null', '{"cniVersion":{},"name":"n"}', '9'.repeat(100000)];
    for (const input of inputs) {
      // CNI_NETNS_OVERRIDE: the own netns would be refused (code 4) before these configs are read.
      const r = run(p, { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c', CNI_NETNS: '/proc/self/ns/net', CNI_NETNS_OVERRIDE: '1', CNI_IFNAME: 'eth0', CNI_PATH: DIST_BIN }, input);
      t.is(r.status, 1, input.slice(0, 40));
      const e = JSON.parse(r.stdout);
      t.true([1, 6, 7].includes(e.code), `${input.slice(0, 40)} -> ${r.stdout}`);
      t.notRegex(r.stdout + r.stderr, /\n\s+at /, 'no stack trace');
    }
  });
}
