// run -it / exec -it on a real pty, driven like a user at a terminal (test/helpers/pty-drive.py: python3's pty
// module gives tscni a controlling terminal of a known size), -i without -t (stdin piped), -d -i, and the
// combinations tscni refuses (docker's "the input device is not a TTY", -d -t, -t with --restart) leaving nothing.

import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { requireRoot } from '../../helpers/netns.ts';
import { leased, makeRunnerEnv, ok, testNetwork, TSCNI, writeConf, type Outcome, type RunnerEnv } from './harness.ts';

const DRIVER = join(import.meta.dirname, '../../helpers/pty-drive.py');

interface Shown {
  output: string;
  exit: number;
  timedOut: boolean;
}

/** tscni ARGS on a fresh ROWSxCOLS terminal; `steps`: [["wait", text] | ["send", text]], in order. */
function onTerminal(r: RunnerEnv, rows: number, cols: number, steps: [string, string][], args: string[]): Promise<Shown> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [DRIVER, String(rows), String(cols), JSON.stringify(steps), '--', 'nsenter', `--net=${r.host.path}`, TSCNI, ...args], { env: r.env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', () => resolve(JSON.parse(out) as Shown));
  });
}

/** tscni ARGS with `input` on stdin and no controlling terminal (setsid). */
function piped(r: RunnerEnv, input: string | undefined, args: string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn('setsid', ['-w', 'nsenter', `--net=${r.host.path}`, TSCNI, ...args], { env: r.env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin?.end(input);
  });
}

const containerDirs = (r: RunnerEnv) => (existsSync(join(r.state, 'containers')) ? readdirSync(join(r.state, 'containers')).filter((n) => /^[0-9a-f]{64}$/.test(n)) : []);

test.serial('run -it: a pty with the terminal\'s size, typing, the exit code, the network, tty logs, --rm', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'tty');
  writeConf(r, '10-tnet.conflist', testNetwork(r, 'tnet', 'tscnittt', '10.99.101.0/24'));
  // The size is asked after some typing: runc sets it once the process runs (tens of ms on a loaded machine), so a
  // program's very first instant may still see 0x0, as under docker; it gets a SIGWINCH when the size arrives.
  const script = 'tty; [ -t 0 ] && echo stdin-is-tty; ip -4 -o addr show eth0 | grep -o "inet [0-9.]*"; echo ready; read x; echo got:$x; stty size; read y; stty size; exit 3';
  const shown = await onTerminal(r, 33, 91, [['wait', 'ready'], ['sleep', '0.5'], ['send', 'hello\n'], ['wait', '33 91'], ['resize', '44 132'], ['sleep', '0.3'], ['send', '\n']], ['run', '-it', '--name', 'tty1', '--network', 'tnet', 'busybox', 'sh', '-c', script]);
  const expected = '/dev/pts/0\r\nstdin-is-tty\r\ninet 10.99.101.2\r\nready\r\nhello\r\ngot:hello\r\n33 91\r\n\r\n44 132\r\n';
  t.deepEqual(shown, { output: expected, exit: 3, timedOut: false });
  const info = JSON.parse((await ok(t, r, ['inspect', 'tty1'])).stdout)[0];
  t.deepEqual([info.State.Status, info.State.ExitCode, info.State.Error, info.Config.Tty, info.Config.OpenStdin, info.Config.Env.slice(-2)], ['exited', 3, '', true, true, [`HOSTNAME=${info.Id.slice(0, 12)}`, 'TERM=xterm']]);
  // docker's json-file for a tty container: everything as stdout, "\r\n" line ends.
  t.is((await ok(t, r, ['logs', 'tty1'])).stdout, expected);
  t.false(leased(r.ipam, 'tnet', '10.99.101.2'), 'the address was given back when the shell exited');
  const restart = await r.tscni(['start', 'tty1']);
  t.deepEqual([restart.code, restart.stderr], [1, 'tscni: cannot start tty1: it was run with -t, and a pty is made only for an attached run (run it again with tscni run -it)\n']);
  await ok(t, r, ['rm', 'tty1']);

  // Ctrl-C is a byte on the pty (raw mode): the shell's trap gets SIGINT; --rm leaves nothing.
  const ctrlC = await onTerminal(r, 24, 80, [['wait', 'ready'], ['send', '\x03']], ['run', '-it', '--rm', '--network', 'tnet', 'busybox', 'sh', '-c', 'trap "echo INT; exit 9" INT; echo ready; while :; do sleep 0.1; done']);
  t.deepEqual(ctrlC, { output: 'ready\r\n^CINT\r\n', exit: 9, timedOut: false });
  // -t without -i: a pty, but nothing typed reaches it (docker's -t alone).
  const tOnly = await onTerminal(r, 24, 80, [['wait', 'ready'], ['send', 'typed\n']], ['run', '-t', '--rm', '--network', 'tnet', 'busybox', 'sh', '-c', '[ -t 0 ] && echo tty0; echo ready; read -t 1 x; echo "x=$x"; exit 2']);
  t.deepEqual(tOnly, { output: 'tty0\r\nready\r\nx=\r\n', exit: 2, timedOut: false });
  t.deepEqual(containerDirs(r), []);
  t.is((await ok(t, r, ['ps', '-a', '-q'])).stdout, '');
});

test.serial('exec -it on a pty; -i without -t pipes stdin; -d -i keeps stdin open', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'tyx');
  writeConf(r, '10-tnet.conflist', testNetwork(r, 'tnet', 'tscnittx', '10.99.102.0/24'));
  const piping = await piped(r, 'one\ntwo\n', ['run', '-i', '--rm', '--network', 'tnet', 'busybox', 'sh', '-c', 'cat; echo err >&2; exit 4']);
  t.deepEqual(piping, { code: 4, stdout: 'one\ntwo\n', stderr: 'err\n' });

  await ok(t, r, ['run', '-d', '-i', '--name', 'di', '--network', 'tnet', 'busybox', 'sh']);
  await new Promise((res) => setTimeout(res, 500));
  t.is(JSON.parse((await ok(t, r, ['inspect', 'di'])).stdout)[0].State.Status, 'running', 'sh reads a stdin that stays open');
  const exec = await onTerminal(r, 40, 100, [['wait', 'ready'], ['sleep', '0.5'], ['send', 'hi\n'], ['wait', '40 100'], ['resize', '50 120'], ['sleep', '0.3'], ['send', '\n']],
    ['exec', '-it', 'di', 'sh', '-c', 'tty; echo ready; read x; echo got:$x; stty size; read y; stty size; exit 5']);
  // The window resized while it runs: runc passes the SIGWINCH's new size on. runc's exec copies the container's pty
  // to ours itself and clears its ONLCR only once it has set it up: output written before that (first lines, on a
  // loaded machine) reaches the screen as "\r\r\n", which shows exactly as "\r\n" does. Compared as shown.
  exec.output = exec.output.replace(/\r+\n/g, '\r\n');
  t.deepEqual(exec, { output: '/dev/pts/0\r\nready\r\nhi\r\ngot:hi\r\n40 100\r\n\r\n50 120\r\n', exit: 5, timedOut: false });
  const noTty = await piped(r, undefined, ['exec', 'di', 'sh', '-c', '[ -t 0 ] || echo not-a-tty; read x || echo stdin-empty']);
  t.deepEqual(noTty, { code: 0, stdout: 'not-a-tty\nstdin-empty\n', stderr: '' });
  t.deepEqual(await piped(r, 'in\n', ['exec', '-i', 'di', 'cat']), { code: 0, stdout: 'in\n', stderr: '' });
  t.deepEqual(await piped(r, 'x\n', ['exec', '-it', 'di', 'cat']), { code: 1, stdout: '', stderr: 'tscni: the input device is not a TTY\n' });
  t.deepEqual(await piped(r, undefined, ['exec', '-t', 'di', 'tty']), { code: 1, stdout: '', stderr: 'tscni: exec -t needs a terminal: tscni has no controlling terminal (/dev/tty cannot be opened)\n' });
  await ok(t, r, ['rm', '-f', 'di']);
  t.deepEqual(containerDirs(r), []);
});

test.serial('-it without a TTY, -t without a terminal, -d -t, -t --restart and a command runc cannot start leave nothing', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'tyb');
  writeConf(r, '10-tnet.conflist', testNetwork(r, 'tnet', 'tscnitty', '10.99.103.0/24'));
  const cases: [string[], string | undefined, Outcome][] = [
    [['-it'], 'echo\n', { code: 1, stdout: '', stderr: 'tscni: the input device is not a TTY\n' }],
    [['-t'], undefined, { code: 1, stdout: '', stderr: 'tscni: run -t needs a terminal: tscni has no controlling terminal (/dev/tty cannot be opened)\n' }],
    [['-d', '-t'], undefined, { code: 2, stdout: '', stderr: 'tscni: run: -t cannot be used with -d: a pty is made only for a run attached to tscni\'s terminal (use -d without -t, or -it without -d)\n' }],
    [['-t', '--restart', 'always'], undefined, { code: 2, stdout: '', stderr: 'tscni: conflicting options: -t and --restart (the pty exists only for the attached first run)\n' }],
  ];
  for (const [flags, input, expected] of cases) {
    t.deepEqual(await piped(r, input, ['run', ...flags, '--name', 'bad', '--network', 'tnet', 'busybox', 'sh']), expected, flags.join(' '));
  }
  // On a terminal, a command runc cannot start: 125 with runc's words once, and nothing left.
  const bad = await onTerminal(r, 24, 80, [], ['run', '-it', '--name', 'bad', '--network', 'tnet', 'busybox', '/nonexistent']);
  t.deepEqual(bad, { output: 'tscni: runc could not start the container: runc run failed: unable to start container process: exec: "/nonexistent": stat /nonexistent: no such file or directory\r\n', exit: 125, timedOut: false });
  t.deepEqual(containerDirs(r), []);
  t.is((await ok(t, r, ['ps', '-a', '-q'])).stdout, '');
  t.false(leased(r.ipam, 'tnet', '10.99.103.2'));
});
