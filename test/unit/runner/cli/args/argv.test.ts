// The CLI's argv parser (the first test moved from test/e2e/runner-pure.test.ts unchanged).

import test from 'ava';
import { bool, list, parseArgs, str } from '../../../../../lib/runner/cli/args/argv.ts';

const RUN = { bools: ['detach', 'interactive', 'tty', 'rm'], values: ['name', 'network'], multi: ['publish', 'env'], aliases: { d: 'detach', i: 'interactive', t: 'tty', p: 'publish', e: 'env' }, stopAtPositional: true };

test('argv: clustered booleans, values, repeats, stop at the command line', (t) => {
  const p = parseArgs(['-dit', '-p8080:80', '--publish', '1:2', '--name=web', '-e', 'A=1', 'img', 'sh', '-c', 'x'], { bools: ['detach', 'interactive', 'tty'], values: ['name'], multi: ['publish', 'env'], aliases: { d: 'detach', i: 'interactive', t: 'tty', p: 'publish', e: 'env' }, stopAtPositional: true }, 'run');
  t.deepEqual(p, { flags: { publish: ['8080:80', '1:2'], env: ['A=1'], detach: true, interactive: true, tty: true, name: 'web' }, positionals: ['img', 'sh', '-c', 'x'] });
  t.throws(() => parseArgs(['--bogus'], {}, 'ps'), { message: 'ps: unknown flag --bogus (see tscni ps --help)' });
  t.throws(() => parseArgs(['--name'], { values: ['name'] }, 'run'), { message: 'run: flag --name needs a value' });
});

test('-p forms: attached, separate, --publish=, and a value that starts with a dash', (t) => {
  const p = parseArgs(['-p', '80:80', '-p127.0.0.1:81:81/udp', '--publish=[::1]:82:82', '--name', '-x', 'img'], RUN, 'run');
  t.deepEqual(p.flags.publish, ['80:80', '127.0.0.1:81:81/udp', '[::1]:82:82']);
  t.is(str(p, 'name'), '-x');
  t.deepEqual(p.positionals, ['img']);
});

test('a cluster ends at the first value flag, which takes the rest of the cluster as its value', (t) => {
  const p = parseArgs(['-dp8080:80', 'img'], RUN, 'run');
  t.deepEqual(p, { flags: { publish: ['8080:80'], env: [], detach: true }, positionals: ['img'] });
});

test('--, negative numbers and a lone dash are positionals; -h is --help', (t) => {
  t.deepEqual(parseArgs(['--', '-d', '--name'], RUN, 'run'), { flags: { publish: [], env: [] }, positionals: ['-d', '--name'] });
  t.deepEqual(parseArgs(['-5', '-'], { bools: ['all'] }, 'ps'), { flags: {}, positionals: ['-5', '-'] });
  t.deepEqual(parseArgs(['-h'], {}, 'ps'), { flags: { help: true }, positionals: [] });
});

test('without stopAtPositional, flags after positionals still count', (t) => {
  t.deepEqual(parseArgs(['web', '-t', '5', 'db'], { values: ['time'], aliases: { t: 'time' } }, 'stop'), { flags: { time: '5' }, positionals: ['web', 'db'] });
  t.deepEqual(parseArgs(['img', '-d'], RUN, 'run'), { flags: { publish: [], env: [] }, positionals: ['img', '-d'] });
});

test('usage errors name the command and the flag as written', (t) => {
  t.throws(() => parseArgs(['--rm=yes'], RUN, 'run'), { message: 'run: flag --rm=yes takes no value' });
  t.throws(() => parseArgs(['-x'], RUN, 'run'), { message: 'run: unknown flag -x (see tscni run --help)' });
  t.throws(() => parseArgs(['-dp'], RUN, 'run'), { message: 'run: flag -p needs a value' });
  const e = t.throws(() => parseArgs(['--nope'], RUN, 'run'));
  t.is((e as unknown as { exitCode: number }).exitCode, 2);
});

test('str, bool and list read one flag by its type', (t) => {
  const p = parseArgs(['-d', '--name', 'n', '-e', 'A=1', '-e', 'B=2'], RUN, 'run');
  t.is(str(p, 'name'), 'n');
  t.is(str(p, 'detach'), undefined);
  t.true(bool(p, 'detach'));
  t.false(bool(p, 'name'));
  t.deepEqual(list(p, 'env'), ['A=1', 'B=2']);
  t.deepEqual(list(p, 'name'), []);
});
