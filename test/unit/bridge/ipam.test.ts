// How bridge recognises tscni's own host-local (called in-process) without looking at process.argv.

import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOwnHostLocal } from '../../../plugins/bridge/ipam.ts';

test('own host-local: the one built beside this bridge, directly or through symlinks; any other is exec\'d', (t) => {
  const d = mkdtempSync(join(tmpdir(), 'tscni-own-hl-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  const exe = (p: string) => writeFileSync(p, '#!/bin/sh\n', { mode: 0o755 });
  for (const dir of ['dist', 'opt', 'ref']) mkdirSync(join(d, dir));
  exe(join(d, 'dist/bridge'));
  exe(join(d, 'dist/host-local'));
  exe(join(d, 'ref/host-local'));
  // A `tscni install` prefix: /opt/cni/bin holds symlinks to the built executables.
  symlinkSync(join(d, 'dist/host-local'), join(d, 'opt/host-local'));
  const self = join(d, 'dist/bridge');
  t.true(isOwnHostLocal('host-local', [join(d, 'dist')], self));
  t.true(isOwnHostLocal('host-local', [join(d, 'opt')], self), 'through the installed symlink');
  t.false(isOwnHostLocal('host-local', [join(d, 'ref'), join(d, 'dist')], self), 'CNI_PATH finds the reference one first');
  t.false(isOwnHostLocal('dhcp', [join(d, 'dist')], self));
  t.false(isOwnHostLocal('host-local', [join(d, 'dist')]), 'run from source there is no host-local beside plugins/bridge');
});
