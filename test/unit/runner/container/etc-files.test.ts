// The container's /etc/resolv.conf and /etc/hosts (moved from test/e2e/runner-pure.test.ts, plus the full hosts file).

import test from 'ava';
import { hostsFile, resolvConf } from '../../../../lib/runner/container/etc-files.ts';

test('resolv.conf drops loopback resolvers and falls back to public ones', (t) => {
  t.is(resolvConf('# generated\nnameserver 127.0.0.53\noptions edns0\nsearch example.org\n'), 'options edns0\nsearch example.org\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  t.is(resolvConf('nameserver 10.0.0.2\nnameserver ::1\n'), 'nameserver 10.0.0.2\n');
  t.is(hostsFile('h1', 'web', '10.42.0.2').split('\n').at(-2), '10.42.0.2\th1 web');
  t.is(hostsFile('web', 'web', '10.42.0.2').split('\n').at(-2), '10.42.0.2\tweb');
});

test('resolv.conf: comments and blank lines go, 0.0.0.0 counts as loopback, an empty host file gets the fallback', (t) => {
  t.is(resolvConf(''), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  t.is(resolvConf('; old\n\n  nameserver 0.0.0.0\n  nameserver 192.168.1.1  \n'), 'nameserver 192.168.1.1\n');
});

test('hosts: the localhost lines, then the container address with its host name and name', (t) => {
  t.is(hostsFile('abc', 'web', undefined), '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n');
  t.is(hostsFile('abc', 'web', '10.0.0.5'), '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n10.0.0.5\tabc web\n');
});
