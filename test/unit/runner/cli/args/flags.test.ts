// Value parsers for container flags (the memory test moved from test/e2e/runner-pure.test.ts unchanged).

import test from 'ava';
import { parseCpus, parseEnv, parseMemory, parsePids } from '../../../../../lib/runner/cli/args/flags.ts';

test('memory sizes', (t) => {
  t.is(parseMemory('64m'), 64 * 1024 * 1024);
  t.is(parseMemory('1g'), 1024 ** 3);
  t.is(parseMemory('10485760'), 10485760);
  t.throws(() => parseMemory('1k'), { message: 'invalid --memory 1k: the minimum is 6m' });
});

test('memory: units in either case, a trailing b, fractions', (t) => {
  t.is(parseMemory('6M'), 6291456);
  t.is(parseMemory('64mb'), 67108864);
  t.is(parseMemory('1.5g'), 1610612736);
  t.is(parseMemory('8192k'), 8388608);
  t.throws(() => parseMemory('lots'), { message: 'invalid --memory "lots": expected a size like 64m or 1g' });
  t.throws(() => parseMemory('64t'), { message: 'invalid --memory "64t": expected a size like 64m or 1g' });
});

test('cpus and pids', (t) => {
  t.is(parseCpus('0.5'), 0.5);
  t.is(parseCpus('2'), 2);
  t.throws(() => parseCpus('0'), { message: 'invalid --cpus "0": expected a positive number like 0.5' });
  t.throws(() => parseCpus('half'), { message: 'invalid --cpus "half": expected a positive number like 0.5' });
  t.is(parsePids('100'), 100);
  t.throws(() => parsePids('1.5'), { message: 'invalid --pids-limit "1.5": expected a positive integer' });
  t.throws(() => parsePids('0'), { message: 'invalid --pids-limit "0": expected a positive integer' });
});

test('env: KEY=VALUE as given, a bare KEY from our environment, else an error', (t) => {
  process.env.TSCNI_UNIT_ENV = 'from-host';
  delete process.env.TSCNI_UNIT_UNSET;
  t.deepEqual(parseEnv(['A=1', 'B=', 'C=x=y', 'TSCNI_UNIT_ENV']), ['A=1', 'B=', 'C=x=y', 'TSCNI_UNIT_ENV=from-host']);
  t.throws(() => parseEnv(['TSCNI_UNIT_UNSET']), { message: 'invalid -e "TSCNI_UNIT_UNSET": expected KEY=VALUE' });
  t.throws(() => parseEnv(['=v']), { message: 'invalid -e "=v": expected KEY=VALUE' });
});
