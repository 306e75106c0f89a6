// The Vagrantfile is valid and provisions a box with exactly the README's test command.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../helpers/plugin.ts';

test('vagrant validate accepts the Vagrantfile', (t) => {
  const r = spawnSync('vagrant', ['validate', '--ignore-provider'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, VAGRANT_CHECKPOINT_DISABLE: '1' } });
  t.is(r.status, 0, r.stdout + r.stderr);
  t.regex(r.stdout, /Vagrantfile validated successfully\./);
});

test('the box runs the README test command', (t) => {
  const vagrantfile = readFileSync(join(ROOT, 'Vagrantfile'), 'utf8');
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  t.regex(vagrantfile, /config\.vm\.box = "debian\/bookworm64"/);
  t.regex(vagrantfile, /bash \.ci\/test/);
  t.regex(readme, /sudo bash \.ci\/test/);
});
