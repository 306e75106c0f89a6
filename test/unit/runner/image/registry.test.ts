// Pure parts of pulling: references, platforms, auth challenges, the progress bar, and the sweep of what a killed
// pull left behind.

import test from 'ava';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { displayReference, isInsecure, parsePlatform, parseReference } from '../../../../lib/runner/image/registry/reference.ts';
import { parseChallenge } from '../../../../lib/runner/image/registry/client.ts';
import { bar, progressFor } from '../../../../lib/runner/image/registry/progress.ts';
import { compressionOf, sweepStale } from '../../../../lib/runner/image/layer-unpack.ts';

const D = `sha256:${'ab'.repeat(32)}`;

test('references: docker.io defaults, registries with ports, tags and digests', (t) => {
  t.deepEqual(parseReference('busybox'), { registry: 'docker.io', apiHost: 'registry-1.docker.io', repo: 'library/busybox', tag: 'latest', digest: undefined, localRepo: 'busybox' });
  t.deepEqual(parseReference('docker.io/user/app:1.2'), { registry: 'docker.io', apiHost: 'registry-1.docker.io', repo: 'user/app', tag: '1.2', digest: undefined, localRepo: 'user/app' });
  t.deepEqual(parseReference(`127.0.0.1:5000/a/b@${D}`), { registry: '127.0.0.1:5000', apiHost: '127.0.0.1:5000', repo: 'a/b', tag: undefined, digest: D, localRepo: '127.0.0.1:5000/a/b' });
  t.is(displayReference(parseReference('localhost/x:y')), 'localhost/x:y');
  t.is(displayReference(parseReference(`quay.io/x@${D}`)), `quay.io/x@${D}`);
});

test('bad references are usage errors naming the problem', (t) => {
  for (const [ref, why] of [
    ['', 'must be 1 to 255 characters'],
    ['Busybox', 'repository names are lowercase letters, digits and separators (. _ __ -)'],
    ['a//b', 'repository names are lowercase letters, digits and separators (. _ __ -)'],
    ['busybox:-x', 'tag "-x": letters, digits, _ . - only, at most 128'],
    ['busybox@sha256:12', 'the digest must be sha256: and 64 hex digits'],
    ['bad_host:1/x', 'registry "bad_host:1"'],
  ]) {
    const e = t.throws(() => parseReference(ref));
    t.is(e?.message, `invalid reference format ${JSON.stringify(ref)}: ${why}`);
    t.is((e as any).exitCode, 2);
  }
});

test('plain HTTP only for loopback and listed registries', (t) => {
  t.true(isInsecure('localhost:5000', {}));
  t.true(isInsecure('127.0.0.1:5000', {}));
  t.false(isInsecure('registry.example:5000', {}));
  t.true(isInsecure('registry.example:5000', { TSCNI_INSECURE_REGISTRIES: 'other, registry.example:5000' }));
  t.false(isInsecure('docker.io', { TSCNI_INSECURE_REGISTRIES: 'registry.example' }));
});

test('platforms', (t) => {
  t.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  t.is(parsePlatform(undefined).os, 'linux');
  t.throws(() => parsePlatform('linux'), { message: 'invalid --platform "linux": expected OS/ARCH[/VARIANT], e.g. linux/amd64' });
});

test('WWW-Authenticate challenges', (t) => {
  t.deepEqual(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'), {
    scheme: 'bearer',
    params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' },
  });
  t.deepEqual(parseChallenge('Basic realm="basic-realm"'), { scheme: 'basic', params: { realm: 'basic-realm' } });
});

test('progress bar and layer compression', (t) => {
  t.is(bar(0, 10, 10), '[>         ]');
  t.is(bar(5, 10, 10), '[=====>    ]');
  t.is(bar(10, 10, 10), '[==========]');
  t.is(compressionOf('application/vnd.oci.image.layer.v1.tar+gzip'), 'gzip');
  t.is(compressionOf('application/vnd.docker.image.rootfs.diff.tar.gzip'), 'gzip');
  t.is(compressionOf('application/vnd.oci.image.layer.v1.tar+zstd'), 'zstd');
  t.is(compressionOf('application/vnd.oci.image.layer.v1.tar'), 'none');
  t.throws(() => compressionOf('application/x-foo'), { message: 'unsupported layer media type "application/x-foo"' });
});

test('sweepStale removes what dead pulls left and keeps live ones', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tscni-sweep-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const dead = 2 ** 22 + 1; // above pid_max's default: no such process
  for (const d of [`.pull-${dead}-x`, `.pull-${process.pid}-y`, `layers/sha256-${'a'.repeat(64)}.tmp-${dead}`, `layers/sha256-${'b'.repeat(64)}`]) mkdirSync(join(root, d), { recursive: true });
  t.deepEqual(sweepStale(root).map((p) => p.slice(root.length + 1)), [`.pull-${dead}-x`, `layers/sha256-${'a'.repeat(64)}.tmp-${dead}`]);
  t.deepEqual(readdirSync(root).sort(), [`.pull-${process.pid}-y`, 'layers']);
  t.deepEqual(readdirSync(join(root, 'layers')), [`sha256-${'b'.repeat(64)}`]);
});

test('progress: a line per layer in order, each redrawn in place while layers download side by side', (t) => {
  let shown = '';
  let clock = 0;
  const p = progressFor(false, { isTTY: true, write: (s: string) => (shown += s) }, 100, () => clock);
  const [a, b, c] = ['a', 'b', 'c'].map((x) => `sha256:${x.repeat(64)}`);
  p.end(a, 'Already exists');
  p.layer(b, 'Pulling fs layer');
  p.layer(c, 'Pulling fs layer');
  t.is(shown, `${'a'.repeat(12)}: Already exists\n${'b'.repeat(12)}: Pulling fs layer\n${'c'.repeat(12)}: Pulling fs layer\n`);
  shown = '';
  p.layer(b, 'Downloading', 5, 10);
  p.layer(b, 'Downloading', 6, 10); // within 100 ms of the last redraw of b: skipped
  p.layer(c, 'Downloading', 1, 10); // another layer: drawn
  clock = 150;
  p.layer(b, 'Verifying Checksum');
  p.end(c, 'Pull complete');
  const line = (up: number, text: string) => `\x1b[${up}A\r\x1b[K${text}\x1b[${up}B\r`;
  t.is(shown, [
    line(2, `${'b'.repeat(12)}: Downloading ${bar(5, 10)} 5B/10B`),
    line(1, `${'c'.repeat(12)}: Downloading ${bar(1, 10)} 1B/10B`),
    line(2, `${'b'.repeat(12)}: Verifying Checksum`),
    line(1, `${'c'.repeat(12)}: Pull complete`),
  ].join(''));
  let quiet = '';
  progressFor(true, { isTTY: true, write: (s: string) => (quiet += s) }).end(a, 'Pull complete');
  progressFor(false, { isTTY: false, write: (s: string) => (quiet += s) }).end(a, 'Pull complete');
  t.is(quiet, '');
});
