// Builds the embedded `busybox` image from Debian's busybox-static: /bin/busybox, a link per applet, a /www page.

import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { RunnerError } from '../cli/errors.ts';
import type { ImageRecord, ImageStore } from './image-store.ts';
import { withLock } from '../lock.ts';
import { capture } from '../../exec/process.ts';

const BUSYBOX_CANDIDATES = ['/usr/bin/busybox', '/bin/busybox'];

export const INDEX_HTML = '<!doctype html>\n<title>tscni</title>\n<h1>Hello from busybox httpd in a tscni container</h1>\n';

function busyboxBinary(): string {
  const p = BUSYBOX_CANDIDATES.find((c) => existsSync(c));
  if (!p) throw new RunnerError('busybox not found: install Debian\'s busybox-static (apt-get install busybox-static)');
  return p;
}

async function applets(bin: string): Promise<string[]> {
  const r = await capture(bin, ['--list-full']);
  if (r.exitCode !== 0) throw new RunnerError(`${bin} --list-full failed: is it busybox-static?`);
  return r.stdout.split('\n').map((l) => l.trim()).filter((l) => l && !l.includes('..'));
}

function writeLayer(dir: string, bin: string, list: string[]): void {
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'www', 'tmp', 'proc', 'sys', 'dev', 'root', 'var/log', 'home']) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o1777);
  copyFileSync(bin, join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  for (const a of list) {
    const target = join(dir, a);
    if (a === 'bin/busybox' || existsSync(target)) continue;
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(relative(dirname(target), join(dir, 'bin/busybox')), target);
  }
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  writeFileSync(join(dir, 'www/index.html'), INDEX_HTML);
}

/** Builds (or rebuilds) busybox:latest. The layer digest is that of the binary and the page, so rebuilding is stable. */
export async function buildBusybox(store: ImageStore): Promise<ImageRecord> {
  const bin = busyboxBinary();
  const list = await applets(bin);
  const digest = 'sha256:' + createHash('sha256').update(readFileSync(bin)).update(INDEX_HTML).update(list.join('\n')).digest('hex');
  return withLock(store.lock, async () => {
    const have = store.find('busybox:latest');
    if (have && have.layers.length === 1 && have.layers[0] === digest && existsSync(store.layerDir(digest))) return have;
    const dir = store.layerDir(digest);
    if (!existsSync(dir)) {
      const tmp = `${dir}.tmp-${process.pid}`;
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      writeLayer(tmp, bin, list);
      renameSync(tmp, dir);
    }
    const img: ImageRecord = {
      id: digest.slice('sha256:'.length),
      repo: 'busybox',
      tag: 'latest',
      layers: [digest],
      config: { Cmd: ['sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], WorkingDir: '/' },
      created: new Date().toISOString(),
      size: readFileSync(bin).length,
    };
    store.put(img);
    return img;
  });
}
