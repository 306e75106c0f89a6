// run -it / exec -it on a real pty, driven like a user at a terminal (test/helpers/pty-drive.py: python3's pty
// module gives tscni a controlling terminal of a known size), -i without -t (stdin piped), -d -i, and the
// combinations tscni refuses (docker's "the input device is not a TTY", -t with --restart in the foreground) leaving
// nothing, -dt/-dit with tscni attach (the monitor keeps the pty runc sends over --console-socket; --detach-keys; a
// restart policy gives every run a fresh pty), and attach to a container without -t (output, signals passed on).

import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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
  // start runs a -t container detached: the monitor keeps its pty (tscni attach).
  t.deepEqual(await r.tscni(['start', 'tty1']), { code: 0, stdout: 'tty1\n', stderr: '' });
  await ok(t, r, ['rm', '-f', 'tty1']);

  // Ctrl-C is a byte on the pty (raw mode): the shell's trap gets SIGINT; --rm leaves nothing.
  const ctrlC = await onTerminal(r, 24, 80, [['wait', 'ready'], ['send', '\x03']], ['run', '-it', '--rm', '--network', 'tnet', 'busybox', 'sh', '-c', 'trap "echo INT; exit 9" INT; echo ready; while :; do sleep 0.1; done']);
  t.deepEqual(ctrlC, { output: 'ready\r\n^CINT\r\n', exit: 9, timedOut: false });
  // -t without -i: a pty, but nothing typed reaches it (docker's -t alone), and this terminal is left as it is
  // (the pty's "\r\n" shows through our ONLCR as "\r\r\n": compared as shown); Ctrl-C is a SIGINT to tscni,
  // which passes it on (under docker it would not stop the container).
  const tOnly = await onTerminal(r, 24, 80, [['wait', 'ready'], ['sleep', '0.3'], ['send', '\x03']], ['run', '-t', '--rm', '--network', 'tnet', 'busybox', 'sh', '-c', 'trap "echo INT; exit 2" INT; [ -t 0 ] && echo tty0; echo ready; read -t 5 x; echo "x=$x"; exit 3']);
  tOnly.output = tOnly.output.replace(/\r+\n/g, '\r\n');
  t.deepEqual(tOnly, { output: 'tty0\r\nready\r\n^CINT\r\n', exit: 2, timedOut: false });
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

test.serial('-it without a TTY, -t --restart in the foreground and a command runc cannot start (-it, -dt) leave nothing; -t without a terminal runs', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'tyb');
  writeConf(r, '10-tnet.conflist', testNetwork(r, 'tnet', 'tscnitty', '10.99.103.0/24'));
  const cases: [string[], string | undefined, Outcome][] = [
    [['-it'], 'echo\n', { code: 1, stdout: '', stderr: 'tscni: the input device is not a TTY\n' }],
    [['-t', '--restart', 'always'], undefined, { code: 2, stdout: '', stderr: 'tscni: conflicting options: -t and --restart in the foreground (run it with -d, then tscni attach)\n' }],
  ];
  for (const [flags, input, expected] of cases) {
    t.deepEqual(await piped(r, input, ['run', ...flags, '--name', 'bad', '--network', 'tnet', 'busybox', 'sh']), expected, flags.join(' '));
  }
  // -t without a terminal (a script, CI): the pty's output all the same, as docker's.
  t.deepEqual(await piped(r, undefined, ['run', '-t', '--rm', '--network', 'tnet', 'busybox', 'sh', '-c', '[ -t 1 ] && echo tty1; exit 6']), { code: 6, stdout: 'tty1\r\n', stderr: '' });
  t.deepEqual(await piped(r, undefined, ['run', '-t', '--detach-keys', 'ctrl-', 'busybox', 'sh']), { code: 2, stdout: '', stderr: 'tscni: invalid --detach-keys "ctrl-": unknown key "ctrl-" (a printable character, or ctrl- with a-z, @, [, \\, ], ^ or _)\n' });
  // On a terminal, a command runc cannot start: 125 with runc's words once, and nothing left.
  const bad = await onTerminal(r, 24, 80, [], ['run', '-it', '--name', 'bad', '--network', 'tnet', 'busybox', '/nonexistent']);
  t.deepEqual(bad, { output: 'tscni: runc could not start the container: runc run failed: unable to start container process: exec: "/nonexistent": stat /nonexistent: no such file or directory\r\n', exit: 125, timedOut: false });
  // Detached (-dt: runc run -d --console-socket), the same words on stderr.
  t.deepEqual(await piped(r, undefined, ['run', '-dt', '--name', 'bad', '--network', 'tnet', 'busybox', '/nonexistent']), { code: 125, stdout: '', stderr: 'tscni: runc could not start the container: runc run failed: unable to start container process: exec: "/nonexistent": stat /nonexistent: no such file or directory\n' });
  t.deepEqual(containerDirs(r), []);
  t.is((await ok(t, r, ['ps', '-a', '-q'])).stdout, '');
  t.false(leased(r.ipam, 'tnet', '10.99.103.2'));
});

/** Monitors still running for container `id` (their command line names it). */
function monitorsOf(id: string): string[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      return argv.includes('__monitor') && argv.includes(id);
    } catch {
      return false;
    }
  });
}

test.serial('run -dit, then attach: typing, a resize, Ctrl-P Ctrl-Q detaches, attach again, exit 7 ends attach with 7; the tty log; start; rm -f leaves nothing', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'tya');
  writeConf(r, '10-tnet.conflist', testNetwork(r, 'tnet', 'tscnitya', '10.99.104.0/24'));
  // A plain read-eval loop rather than busybox's line editor, whose redraws depend on timing: the pty's own echo
  // shows what is typed. attach puts this terminal in raw mode at once; the first keys wait for that.
  const shell = 'echo ready; while read -r l; do eval "$l"; done';
  const id = (await ok(t, r, ['run', '-dit', '--name', 'box', '--network', 'tnet', 'busybox', 'sh', '-c', shell])).stdout.trim();
  const dir = join(r.state, 'containers', id);
  t.true(existsSync(join(dir, 'attach.sock')), 'the monitor serves attach.sock');
  t.false(existsSync(join(dir, 'console.sock')), 'runc\'s console socket is gone once the pty arrived');
  const first = await onTerminal(r, 30, 100, [['sleep', '1'], ['send', 'echo hi-$((1+2)) $(tty)\n'], ['wait', 'hi-3 /dev/pts/0\r\n'], ['send', 'stty size\n'], ['wait', '30 100\r\n'],
    ['resize', '40 120'], ['sleep', '0.3'], ['send', 'stty size\n'], ['wait', '40 120\r\n'], ['send', '\x10\x11']], ['attach', 'box']);
  const firstShown = 'echo hi-$((1+2)) $(tty)\r\nhi-3 /dev/pts/0\r\nstty size\r\n30 100\r\nstty size\r\n40 120\r\n';
  t.deepEqual(first, { output: firstShown, exit: 0, timedOut: false });
  let info = JSON.parse((await ok(t, r, ['inspect', 'box'])).stdout)[0];
  t.deepEqual([info.State.Status, info.Config.Tty, info.Config.OpenStdin], ['running', true, true], 'detached, the container keeps running');

  const second = await onTerminal(r, 24, 80, [['sleep', '1'], ['send', 'ip -4 -o addr show eth0 | grep -o "inet [0-9.]*"\n'], ['wait', 'inet 10.99.104.2\r\n'], ['send', 'exit 7\n']], ['attach', 'box']);
  const secondShown = 'ip -4 -o addr show eth0 | grep -o "inet [0-9.]*"\r\ninet 10.99.104.2\r\nexit 7\r\n';
  t.deepEqual(second, { output: secondShown, exit: 7, timedOut: false });
  info = JSON.parse((await ok(t, r, ['inspect', 'box'])).stdout)[0];
  t.deepEqual([info.State.Status, info.State.ExitCode], ['exited', 7]);
  // docker's json-file for a tty: all stdout, "\r\n" line ends, what the pty echoed included.
  t.is((await ok(t, r, ['logs', 'box'])).stdout, 'ready\r\n' + firstShown + secondShown);
  t.false(existsSync(join(dir, 'attach.sock')));
  t.false(leased(r.ipam, 'tnet', '10.99.104.2'), 'the address was given back when the shell exited');
  const stopped = await r.tscni(['attach', 'box']);
  t.deepEqual(stopped, { code: 1, stdout: '', stderr: 'tscni: You cannot attach to a stopped container, start it first\n' });

  // start runs it detached again, with a fresh pty; rm -f leaves nothing: no state, socket or monitor.
  t.deepEqual(await r.tscni(['start', 'box']), { code: 0, stdout: 'box\n', stderr: '' });
  t.is(JSON.parse((await ok(t, r, ['inspect', 'box'])).stdout)[0].State.Status, 'running');
  t.true(existsSync(join(dir, 'attach.sock')));
  t.is(monitorsOf(id).length, 1);
  await ok(t, r, ['rm', '-f', 'box']);
  t.deepEqual(containerDirs(r), []);
  for (let i = 0; i < 50 && monitorsOf(id).length > 0; i++) await new Promise((res) => setTimeout(res, 100));
  t.deepEqual(monitorsOf(id), []);
  t.false(leased(r.ipam, 'tnet', '10.99.104.2'));
  t.is((await ok(t, r, ['ps', '-a', '-q'])).stdout, '');
});

test.serial('-dit --restart on-failure:1: --detach-keys, attach ends with each run\'s code while the policy runs it again; run -it --rm detached from; attach without -t (output, signals, stdin, --rm)', async (t) => {
  if (!requireRoot(t)) return;
  const r = makeRunnerEnv(t, 'tyr');
  writeConf(r, '10-tnet.conflist', testNetwork(r, 'tnet', 'tscnityr', '10.99.105.0/24'));
  const shell = 'echo ready; while read -r l; do eval "$l"; done';
  await ok(t, r, ['run', '-dit', '--restart', 'on-failure:1', '--name', 'rbox', '--network', 'tnet', 'busybox', 'sh', '-c', shell]);
  t.deepEqual(await r.tscni(['attach', '--detach-keys', 'ctrl-x,alt', 'rbox']), { code: 2, stdout: '', stderr: 'tscni: invalid --detach-keys "ctrl-x,alt": unknown key "alt" (a printable character, or ctrl- with a-z, @, [, \\, ], ^ or _)\n' });
  // Ctrl-A d detaches; the shell's exit 3 ends the next attach with 3, and the policy runs it once more (a new pty).
  const keys = await onTerminal(r, 24, 80, [['sleep', '1'], ['send', 'echo one\n'], ['wait', 'echo one\r\none\r\n'], ['send', '\x01d']], ['attach', '--detach-keys', 'ctrl-a,d', 'rbox']);
  t.deepEqual(keys, { output: 'echo one\r\none\r\n', exit: 0, timedOut: false });
  const first = await onTerminal(r, 24, 80, [['sleep', '1'], ['send', 'exit 3\n']], ['attach', 'rbox']);
  t.deepEqual(first, { output: 'exit 3\r\n', exit: 3, timedOut: false });
  let info: any;
  for (let i = 0; i < 100; i++) {
    info = JSON.parse((await ok(t, r, ['inspect', 'rbox'])).stdout)[0];
    if (info.State.Pid && info.RestartCount === 1) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  t.deepEqual([info.State.Status, info.RestartCount], ['running', 1], 'run again by on-failure:1');
  const second = await onTerminal(r, 24, 80, [['sleep', '1'], ['send', 'tty; exit 4\n']], ['attach', 'rbox']);
  t.deepEqual(second, { output: 'tty; exit 4\r\n/dev/pts/0\r\n', exit: 4, timedOut: false });
  info = JSON.parse((await ok(t, r, ['inspect', 'rbox'])).stdout)[0];
  t.deepEqual([info.State.Status, info.State.ExitCode, info.RestartCount], ['exited', 4, 1], 'the policy\'s one restart is spent');
  t.is((await ok(t, r, ['logs', 'rbox'])).stdout, 'ready\r\necho one\r\none\r\nexit 3\r\nready\r\ntty; exit 4\r\n/dev/pts/0\r\n');
  t.false(leased(r.ipam, 'tnet', '10.99.105.2'));
  await ok(t, r, ['rm', 'rbox']);

  // A foreground run -it is an attach too: its first output waits for it, Ctrl-P Ctrl-Q leaves the container running,
  // and --rm then falls to the monitor: removed when the process ends.
  const fg = await onTerminal(r, 24, 80, [['wait', 'ready'], ['sleep', '0.5'], ['send', 'echo one\n'], ['wait', 'echo one\r\none\r\n'], ['send', '\x10\x11']], ['run', '-it', '--rm', '--name', 'fg', '--network', 'tnet', 'busybox', 'sh', '-c', shell]);
  t.deepEqual(fg, { output: 'ready\r\necho one\r\none\r\n', exit: 0, timedOut: false });
  const fgInfo = JSON.parse((await ok(t, r, ['inspect', 'fg'])).stdout)[0];
  t.deepEqual([fgInfo.State.Status, fgInfo.HostConfig.AutoRemove], ['running', true]);
  t.deepEqual(await onTerminal(r, 24, 80, [['sleep', '1'], ['send', 'exit 2\n']], ['attach', 'fg']), { output: 'exit 2\r\n', exit: 2, timedOut: false });
  for (let i = 0; i < 100 && (await ok(t, r, ['ps', '-a', '-q'])).stdout !== ''; i++) await new Promise((res) => setTimeout(res, 50));
  t.is((await ok(t, r, ['ps', '-a', '-q'])).stdout, '', 'removed by its monitor (--rm) once it exited');

  // -dt without -i: attach reads nothing, leaves the terminal as it is, and Ctrl-C leaves the container running.
  await ok(t, r, ['run', '-dt', '--name', 'noin', '--network', 'tnet', 'busybox', 'sh', '-c', 'while :; do sleep 0.2; echo tick; done']);
  const noin = await onTerminal(r, 24, 80, [['wait', 'tick'], ['send', '\x03']], ['attach', 'noin']);
  t.deepEqual([noin.exit, noin.timedOut, noin.output.startsWith('tick\r')], [0, false, true], noin.output);
  t.is(JSON.parse((await ok(t, r, ['inspect', 'noin'])).stdout)[0].State.Status, 'running');
  await ok(t, r, ['rm', '-f', 'noin']);

  // Without -t: the output from now on (stdout and stderr apart), Ctrl-C's SIGINT passed to the container.
  await ok(t, r, ['run', '-d', '--name', 'plain', '--network', 'tnet', 'busybox', 'sh', '-c', 'trap "echo got-INT; exit 5" INT; while :; do echo tick; echo err >&2; sleep 0.2; done']);
  const attach = spawn('nsenter', [`--net=${r.host.path}`, TSCNI, 'attach', 'plain'], { env: r.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let [stdout, stderr] = ['', ''];
  attach.stdout.on('data', (d) => (stdout += d));
  attach.stderr.on('data', (d) => (stderr += d));
  const code = new Promise<number | null>((res) => attach.on('close', (c) => res(c)));
  for (let i = 0; i < 400 && !(stdout.includes('tick') && stderr.includes('err')); i++) await new Promise((res) => setTimeout(res, 50));
  attach.kill('SIGINT');
  const got = { code: await code, stdout, stderr };
  t.true(/^(tick\n)+got-INT\n$/.test(got.stdout) && /^(err\n)+$/.test(got.stderr) && got.code === 5, JSON.stringify(got));
  t.deepEqual(JSON.parse((await ok(t, r, ['inspect', 'plain'])).stdout)[0].State.ExitCode, 5);
  await ok(t, r, ['rm', 'plain']);
  // -d -i --rm without -t: what attach reads on stdin reaches the container; stdout and stderr apart; the exit code
  // comes over attach.sock although --rm removes the container as it exits.
  await ok(t, r, ['run', '-d', '-i', '--rm', '--name', 'din', '--network', 'tnet', 'busybox', 'sh', '-c', 'read l; echo got:$l; echo err:$l >&2; exit 4']);
  t.deepEqual(await piped(r, 'hello\n', ['attach', 'din']), { code: 4, stdout: 'got:hello\n', stderr: 'err:hello\n' });
  for (let i = 0; i < 100 && (await ok(t, r, ['ps', '-a', '-q'])).stdout !== ''; i++) await new Promise((res) => setTimeout(res, 50));
  t.deepEqual(containerDirs(r), []);
  t.is((await ok(t, r, ['ps', '-a', '-q'])).stdout, '');
});
