// The Vagrantfile is valid for both boxes and provisions the README's test command (the vm tier, test/vm, boots it).

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../helpers/plugin.ts';

const validate = (extra: Record<string, string>) =>
  spawnSync('vagrant', ['validate', '--ignore-provider'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, VAGRANT_CHECKPOINT_DISABLE: '1', ...extra } });

test('vagrant validate accepts the Vagrantfile, with the local box and with Vagrant Cloud\'s', (t) => {
  const boxes: Record<string, string>[] = [{}, { TSCNI_VAGRANT_BOX: 'debian/bookworm64' }];
  for (const box of boxes) {
    const r = validate(box);
    t.is(r.status, 0, r.stdout + r.stderr);
    t.regex(r.stdout, /Vagrantfile validated successfully\./);
  }
});

test('the box is the one build-box.sh makes, libvirt first, and it runs the README test command', (t) => {
  const vagrantfile = readFileSync(join(ROOT, 'Vagrantfile'), 'utf8');
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  t.regex(vagrantfile, /config\.vm\.box = box\n/);
  t.regex(vagrantfile, /box = ENV\.fetch\("TSCNI_VAGRANT_BOX", "tscni\/bookworm64"\)/);
  t.regex(readFileSync(join(ROOT, 'test/vagrant/build-box.sh'), 'utf8'), /^name=tscni\/bookworm64$/m);
  t.true(vagrantfile.indexOf('provider "libvirt"') < vagrantfile.indexOf('provider "virtualbox"'));
  t.regex(vagrantfile, /all\) bash \.ci\/test unit netns e2e ;;/);
  t.regex(readme, /sudo bash \.ci\/test/);
});
