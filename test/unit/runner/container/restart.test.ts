// Restart policies: parsing, the monitor's decision, the back-off and what boot starts.

import test from 'ava';
import { parseRestart, restartDelayMs, restartText, shouldRestart, startsAtBoot } from '../../../../lib/runner/container/restart.ts';

test('policies parse and print back', (t) => {
  for (const s of ['no', 'always', 'unless-stopped', 'on-failure', 'on-failure:3']) t.is(restartText(parseRestart(s)), s);
  t.deepEqual(parseRestart(undefined), { name: 'no' });
  t.throws(() => parseRestart('on-failure:0'), { message: 'invalid --restart "on-failure:0": the retry count must be a positive integer' });
  t.throws(() => parseRestart('never'), { message: 'invalid --restart "never": no, always, on-failure[:N] or unless-stopped' });
});

test('on-failure:3 restarts a failing process 3 times; stop ends every policy', (t) => {
  const p = parseRestart('on-failure:3');
  t.deepEqual([0, 1, 2, 3].map((n) => shouldRestart(p, 1, n, false)), [true, true, true, false]);
  t.false(shouldRestart(p, 0, 0, false));
  t.true(shouldRestart(parseRestart('always'), 0, 100, false));
  t.false(shouldRestart(parseRestart('always'), 1, 0, true));
  t.false(shouldRestart(parseRestart('no'), 1, 0, false));
  t.deepEqual([0, 1, 2, 10].map(restartDelayMs), [100, 200, 400, 10_000]);
});

test('boot starts always, and unless-stopped unless a user stopped it', (t) => {
  t.true(startsAtBoot({ restartPolicy: { name: 'always' }, stopRequested: true }));
  t.true(startsAtBoot({ restartPolicy: { name: 'unless-stopped' } }));
  t.false(startsAtBoot({ restartPolicy: { name: 'unless-stopped' }, stopRequested: true }));
  t.false(startsAtBoot({ restartPolicy: { name: 'on-failure' } }));
  t.false(startsAtBoot({}));
});
