// Container names: Docker's characters and at most 63 of them (the name is a host name in /etc/hosts); created-only states.

import test from 'ava';
import { checkContainerName, createdOnly } from '../../../../lib/runner/container/store.ts';

test('names of Docker\'s shape up to 63 characters pass', (t) => {
  for (const ok of ['a', 'web', 'Web_1.prod-2', '0', 'x'.repeat(63)]) t.notThrows(() => checkContainerName(ok), ok);
});

test('other characters, a bad first character and 64+ characters are usage errors with the reason', (t) => {
  for (const bad of ['', '-a', '_a', '.a', 'a b', 'a/b', 'a:b', 'ä']) {
    t.throws(() => checkContainerName(bad), { message: `invalid --name ${JSON.stringify(bad)}: letters, digits, _ . - only, starting with a letter or digit` }, bad);
  }
  const e = t.throws(() => checkContainerName('n'.repeat(64)));
  t.is(e?.message, 'invalid --name "nnnnnnnnnnnnnnnnnnnn..." (64 characters): at most 63, as it is the container\'s host name in /etc/hosts');
  t.is((e as unknown as { exitCode: number }).exitCode, 2);
});

test('createdOnly: made by create and never started (no monitor, no process setting it up)', (t) => {
  t.true(createdOnly({ status: 'created' }));
  t.false(createdOnly({ status: 'created', setupPid: 42 }), 'a run or start is setting it up');
  t.false(createdOnly({ status: 'created', monitorPid: 43 }));
  t.false(createdOnly({ status: 'running' }));
  t.false(createdOnly({ status: 'exited' }));
});
