// tscni load: archives written by podman (a real tool no one here wrote), docker-archive and oci-archive,
// then a container from the loaded image answering through a published port.

import test from 'ava';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireRoot } from '../../helpers/netns.ts';
import { makeRunnerEnv, testNetwork, writeConf } from './harness.ts';

for (const format of ['docker-archive', 'oci-archive']) {
  test.serial(`load a podman save --format ${format} archive and run it`, async (t) => {
    if (!requireRoot(t)) return;
    const r = makeRunnerEnv(t, format === 'oci-archive' ? 'lo' : 'ld');
    writeConf(r, '10-tnet.conflist', testNetwork(r, 'tnet', `tscnit${format === 'oci-archive' ? 'lo' : 'ld'}`, '10.99.51.0/24'));
    const root = join(r.dir, 'rootfs');
    mkdirSync(join(root, 'bin'), { recursive: true });
    mkdirSync(join(root, 'www'));
    copyFileSync('/usr/bin/busybox', join(root, 'bin/busybox'));
    for (const a of ['sh', 'httpd', 'cat']) symlinkSync('busybox', join(root, 'bin', a));
    writeFileSync(join(root, 'www/index.html'), `loaded from ${format}\n`);
    execFileSync('tar', ['-C', root, '-cf', join(r.dir, 'rootfs.tar'), '.']);
    const podman = ['--root', join(r.dir, 'podman-root'), '--runroot', join(r.dir, 'podman-run'), '--storage-driver', 'vfs'];
    execFileSync('podman', [...podman, 'import', '--change', 'CMD ["httpd","-f","-p","80","-h","/www"]', '--change', 'ENV PATH=/bin', join(r.dir, 'rootfs.tar'), 'localhost/pbox:1'], { stdio: 'ignore' });
    const archive = join(r.dir, 'image.tar');
    execFileSync('podman', [...podman, 'save', '--format', format, '-o', archive, 'localhost/pbox:1'], { stdio: 'ignore' });

    const load = await r.tscni(['load', archive]);
    t.is(load.code, 0, load.stderr);
    t.is(load.stdout, 'Loaded image: localhost/pbox:1\n');
    t.regex(load.stderr, /^Unpacking .*image\.tar \([\d.]+[kM]B\)\nLoading layer 1\/1 [0-9a-f]{12} \[#{20}\] [\d.]+[kM]B\n$/);
    const images = JSON.parse((await r.tscni(['images', '--json'])).stdout);
    t.deepEqual(images.map((i: any) => [i.repo, i.tag, i.config.Cmd]), [['localhost/pbox', '1', ['httpd', '-f', '-p', '80', '-h', '/www']]]);

    const run = await r.tscni(['run', '-d', '--network', 'tnet', '--name', 'p', '-p', '18090:80', 'localhost/pbox:1']);
    t.is(run.code, 0, run.stderr);
    let body = '';
    for (let i = 0; i < 50 && body === ''; i++) {
      const c = r.host.try(['curl', '-fsS', '-m', '2', 'http://127.0.0.1:18090/']);
      body = c.status === 0 ? c.stdout : '';
      if (!body) await new Promise((res) => setTimeout(res, 100));
    }
    t.is(body, `loaded from ${format}\n`);
    const inUse = await r.tscni(['rmi', 'localhost/pbox:1']);
    t.is(inUse.code, 4);
    t.is((await r.tscni(['rm', '-f', 'p'])).code, 0);
    t.is((await r.tscni(['rmi', 'localhost/pbox:1'])).stdout, 'Untagged: localhost/pbox:1\n');
    t.deepEqual(JSON.parse((await r.tscni(['images', '--json'])).stdout), []);
  });
}
