// lib/util/undo.ts: steps undone in reverse, every one attempted, failures logged and returned; commit keeps all.

import test from 'ava';
import { UndoStack } from '../../../lib/util/undo.ts';

test('unwind runs every step in reverse, async and sync, past a failing one', async (t) => {
  const done: string[] = [];
  const log: string[] = [];
  const u = new UndoStack();
  u.push('a', () => done.push('a'));
  u.push('b', async () => {
    throw new Error('b broke');
  });
  u.push('c', async () => done.push('c'));
  t.is(u.size, 3);
  const failures = await u.unwind((l) => log.push(l));
  t.deepEqual(done, ['c', 'a']);
  t.deepEqual(failures.map((e) => e.message), ['b broke']);
  t.deepEqual(log, ['undo of b failed: b broke']);
  t.is(u.size, 0);
  t.deepEqual(await u.unwind(), [], 'a second unwind has nothing to do');
});

test('run: commit on success, unwind then rethrow the original error on failure', async (t) => {
  const done: string[] = [];
  t.is(await UndoStack.run(async (u) => {
    u.push('x', () => done.push('x'));
    return 42;
  }), 42);
  t.deepEqual(done, []);
  const err = await t.throwsAsync(UndoStack.run(async (u) => {
    u.push('x', () => done.push('x'));
    u.push('y', () => done.push('y'));
    throw new Error('step 3 failed');
  }));
  t.is(err?.message, 'step 3 failed');
  t.deepEqual(done, ['y', 'x']);
});
