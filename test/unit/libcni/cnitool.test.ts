// cnitool's conventions: the container id from the netns path (moved from test/e2e/runner-pure.test.ts unchanged),
// CNI_ARGS and CAP_ARGS from the environment.

import test from 'ava';
import { cnitoolContainerId, parseCapArgs, parseCniArgsEnv } from '../../../lib/libcni/cnitool.ts';

test("cnitool's container id", (t) => {
  // sha512("/var/run/netns/testing") starts with 77383ca0a0715733ca6f (the id cnitool prints for that path).
  t.is(cnitoolContainerId('/var/run/netns/testing'), 'cnitool-77383ca0a0715733ca6f');
});

test('CNI_ARGS: K=V pairs split on ;, each needing a key and a value', (t) => {
  t.is(parseCniArgsEnv(undefined), undefined);
  t.is(parseCniArgsEnv(''), undefined);
  t.deepEqual(parseCniArgsEnv('IgnoreUnknown=1;K8S_POD_NAME=web'), [['IgnoreUnknown', '1'], ['K8S_POD_NAME', 'web']]);
  t.throws(() => parseCniArgsEnv('A=1;B'), { message: 'invalid CNI_ARGS pair "B"' });
  t.throws(() => parseCniArgsEnv('A=1=2'), { message: 'invalid CNI_ARGS pair "A=1=2"' });
  t.throws(() => parseCniArgsEnv('=1'), { message: 'invalid CNI_ARGS pair "=1"' });
});

test('CAP_ARGS: a JSON object, or a usage error', (t) => {
  t.is(parseCapArgs(undefined), undefined);
  t.deepEqual(parseCapArgs('{"mac":"02:00:00:00:00:01"}'), { mac: '02:00:00:00:00:01' });
  t.throws(() => parseCapArgs('[1]'), { message: 'invalid CAP_ARGS: must be a JSON object' });
  t.throws(() => parseCapArgs('null'), { message: 'invalid CAP_ARGS: must be a JSON object' });
  const e = t.throws(() => parseCapArgs('{'));
  t.true(e?.message.startsWith('invalid CAP_ARGS: '));
  t.is((e as unknown as { exitCode: number }).exitCode, 2);
});
