// The pure parts of attached runs and --init: which -i/-t/-d combinations are refused (and with what), and the OCI
// process a --init or -t container runs.

import test from 'ava';
import { checkAttachFlags } from '../../../../lib/runner/container/attach-flags.ts';
import { INIT_TARGET, ociSpec } from '../../../../lib/runner/container/bundle.ts';
import type { ContainerState } from '../../../../lib/runner/container/store.ts';

const flags = { tty: false, interactive: false, detach: false, restarts: false };
const never = () => {
  throw new Error('the controlling terminal is not asked about');
};

test('attach flags: what docker refuses, and what tscni\'s ptys cannot do', (t) => {
  t.notThrows(() => checkAttachFlags('run', { ...flags, interactive: true, detach: true }, false, never), '-d -i keeps stdin open');
  t.notThrows(() => checkAttachFlags('run', { ...flags, interactive: true }, false, never), '-i alone pipes stdin');
  t.notThrows(() => checkAttachFlags('run', { ...flags, tty: true, interactive: true }, true, () => true));
  t.notThrows(() => checkAttachFlags('run', { ...flags, tty: true }, false, () => true), '-t alone needs no TTY on stdin');
  t.throws(() => checkAttachFlags('run', { ...flags, tty: true, interactive: true }, false, () => true), { message: 'the input device is not a TTY' });
  t.throws(() => checkAttachFlags('exec', { ...flags, tty: true }, true, () => false), { message: 'exec -t needs a terminal: tscni has no controlling terminal (/dev/tty cannot be opened)' });
  t.notThrows(() => checkAttachFlags('run', { ...flags, tty: true }, false, never), 'run -t: the monitor keeps the pty; no controlling terminal needed');
  t.notThrows(() => checkAttachFlags('run', { ...flags, tty: true, detach: true }, false, never), '-d -t: the monitor keeps the pty, no terminal needed');
  t.notThrows(() => checkAttachFlags('run', { ...flags, tty: true, interactive: true, detach: true }, false, never), '-dit');
  const restart = t.throws(() => checkAttachFlags('run', { ...flags, tty: true, restarts: true }, true, () => true));
  t.deepEqual([restart?.message, (restart as { exitCode?: number }).exitCode], ['conflicting options: -t and --restart in the foreground (run it with -d, then tscni attach)', 2]);
  t.notThrows(() => checkAttachFlags('run', { ...flags, tty: true, interactive: true, detach: true, restarts: true }, false, never), '-dit --restart: a fresh pty per run');
});

test('the OCI process: --init runs tini (bind-mounted read-only) in front of the command; -t asks runc for a terminal', (t) => {
  const c = { id: 'x'.repeat(64), cmd: ['sh', '-c', 'true'], env: ['PATH=/bin'], workdir: '/', hostname: 'h', limits: {} } as unknown as ContainerState;
  const plain = ociSpec(c, { rootfs: '/r', containerDir: '/c' }) as any;
  t.deepEqual([plain.process.terminal, plain.process.args], [false, ['sh', '-c', 'true']]);
  t.false(plain.mounts.some((m: any) => m.destination === INIT_TARGET));
  const spec = ociSpec(c, { rootfs: '/r', containerDir: '/c', terminal: true, initPath: '/usr/bin/tini-static' }) as any;
  t.deepEqual([spec.process.terminal, spec.process.args], [true, ['/sbin/docker-init', '--', 'sh', '-c', 'true']]);
  t.deepEqual(spec.mounts.at(-1), { destination: '/sbin/docker-init', type: 'bind', source: '/usr/bin/tini-static', options: ['rbind', 'ro'] });
});
