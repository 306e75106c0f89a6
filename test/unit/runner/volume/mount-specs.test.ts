// -v, --mount and --tmpfs parsing: exact specs for each form, docker's order, and what is refused.

import test from 'ava';
import { parseMountFlag, parseMounts, parseTmpfsFlag, parseVolumeFlag } from '../../../../lib/runner/volume/mount-specs.ts';

const anon = () => 'a'.repeat(64);

test('-v forms: host dir, named volume, anonymous volume', (t) => {
  t.deepEqual(parseVolumeFlag('/srv/data/:/data:ro', anon), { type: 'bind', source: '/srv/data/', target: '/data', readonly: true, createHostPath: true });
  t.deepEqual(parseVolumeFlag('cache:/var/cache', anon), { type: 'volume', source: 'cache', target: '/var/cache', readonly: false });
  t.deepEqual(parseVolumeFlag('/scratch', anon), { type: 'volume', source: anon(), target: '/scratch', readonly: false, anonymous: true });
  t.throws(() => parseVolumeFlag('..:/x', anon), { message: 'invalid -v "..:/x": a host path must be absolute; a volume name has no / and does not start with .' });
  t.throws(() => parseVolumeFlag('data:/x/../..', anon), { message: 'invalid -v "data:/x/../..": cannot mount over the container\'s /' });
});

test('--mount forms and --tmpfs', (t) => {
  t.deepEqual(parseMountFlag('type=bind,source=/h,target=/c,readonly', anon), { type: 'bind', source: '/h', target: '/c', readonly: true });
  t.deepEqual(parseMountFlag('type=volume,src=v1,dst=/c,ro=false', anon), { type: 'volume', source: 'v1', target: '/c', readonly: false });
  t.deepEqual(parseMountFlag('target=/c', anon), { type: 'volume', source: anon(), target: '/c', readonly: false, anonymous: true });
  t.deepEqual(parseMountFlag('type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1777', anon), { type: 'tmpfs', target: '/t', readonly: false, options: ['size=64m', 'mode=1777'] });
  t.deepEqual(parseTmpfsFlag('/run:size=1m,ro'), { type: 'tmpfs', target: '/run', readonly: true, options: ['size=1m'] });
  t.throws(() => parseMountFlag('type=bind,src=rel,dst=/c', anon), { message: 'invalid --mount "type=bind,src=rel,dst=/c": type=bind needs an absolute source' });
  t.throws(() => parseMountFlag('type=bind,src=/h,dst=/c,bogus=1', anon), { message: 'invalid --mount "type=bind,src=/h,dst=/c,bogus=1": unknown field "bogus"' });
  t.throws(() => parseMountFlag('type=tmpfs,src=x,dst=/c', anon), { message: 'invalid --mount "type=tmpfs,src=x,dst=/c": type=tmpfs takes no source' });
});

test('parents are mounted before children; a path twice is refused', (t) => {
  const m = parseMounts({ volumes: ['/h/a:/data/sub', '/h:/data'], mounts: [], tmpfs: ['/tmp'] }, anon);
  t.deepEqual(m.map((x) => x.target), ['/data', '/tmp', '/data/sub']);
  t.throws(() => parseMounts({ volumes: ['v1:/d'], mounts: ['type=tmpfs,dst=/d/'], tmpfs: [] }, anon), { message: 'duplicate mount point /d' });
});
