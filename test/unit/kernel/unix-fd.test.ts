// SCM_RIGHTS over the libc seam, in-process, on both backends (koffi under Node here, bun:ffi under the pinned
// Bun): a file's fd sent over a socketpair arrives as a new descriptor of the same open file; the pty and wait
// calls fail with the errno the kernel gives for a descriptor or pid that is not what they need.

import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as unixFd from '../../../lib/kernel/unix-fd.ts';
import * as fdIo from '../../../lib/kernel/fd-io.ts';

const ROOT = join(import.meta.dirname, '../../..');
const BUN = realpathSync(join(ROOT, 'node_modules/bun/bin/bun.exe'));

const PROBE = `
  const [a, b] = u.unixPair();
  const file = io.openReadOnly(path);
  u.sendFd(a, file, Buffer.from('hello'));
  io.closeFd(file);
  const got = u.recvFd(b);
  const content = io.readAll(got.fd).toString();
  let winsize = '';
  try { u.setWindowSize(a, 24, 80); } catch (e) { winsize = e.code; }
  let reap = '';
  try { u.reapChild(1); } catch (e) { reap = e.code; }
  u.sendFd(a, 1, Buffer.from('x'));
  io.closeFd(a);
  const second = u.recvFd(b);
  const eof = u.recvFd(b);
  for (const fd of [b, got.fd, second.fd]) io.closeFd(fd);
  return { data: got.data.toString(), fresh: got.fd > 2, content, winsize, reap, secondHasFd: second.fd !== undefined, eof: [eof.fd, eof.data.length] };`;

const expected = { data: 'hello', fresh: true, content: 'sent by fd\n', winsize: 'ENOTTY', reap: 'ECHILD', secondHasFd: true, eof: [undefined, 0] };

function fixture(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tscni-fd-')), 'f');
  writeFileSync(path, 'sent by fd\n');
  return path;
}

test('SCM_RIGHTS under Node: koffi', (t) => {
  t.deepEqual(new Function('u', 'io', 'path', PROBE)(unixFd, fdIo, fixture()), expected);
});

test('SCM_RIGHTS under the pinned Bun: bun:ffi, same answers', (t) => {
  const script = `import * as u from ${JSON.stringify(join(ROOT, 'lib/kernel/unix-fd.ts'))}; import * as io from ${JSON.stringify(join(ROOT, 'lib/kernel/fd-io.ts'))};
    const path = ${JSON.stringify(fixture())}; console.log(JSON.stringify((() => {${PROBE}})(), (k, v) => v === undefined ? null : v));`;
  const out = execFileSync(BUN, ['-e', script], { encoding: 'utf8', cwd: ROOT });
  t.deepEqual(JSON.parse(out), { ...expected, eof: [null, 0] });
});
