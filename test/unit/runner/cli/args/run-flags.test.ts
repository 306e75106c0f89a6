// run's flag parsers (lib/runner/cli/args/flags.ts): process and /etc flags, parsed (pure apart from --env-file's read).

import test from 'ava';
import { parseArgs } from '../../../../../lib/runner/cli/args/argv.ts';
import { parseEnvFile, parseRunOptions, parseUser, RUN_OPTION_BOOLS, RUN_OPTION_MULTI, RUN_OPTION_VALUES } from '../../../../../lib/runner/cli/args/flags.ts';
import { capabilities } from '../../../../../lib/runner/container/bundle.ts';

const parse = (argv: string[]) => parseRunOptions(parseArgs(argv, { bools: RUN_OPTION_BOOLS, values: RUN_OPTION_VALUES, multi: RUN_OPTION_MULTI }, 'run'));

test('options become container fields', (t) => {
  const o = parse(['--workdir', '/w', '--user', '1000', '--entrypoint', '', '--read-only', '--init', '--cap-add', 'sys_time', '--cap-drop', 'CAP_NET_RAW', '--label', 'a=b=c', '--label', 'flag', '--add-host', 'h.example:fd00::1', '--dns-search', 'x.test']);
  t.deepEqual(o, {
    workdir: '/w', entrypoint: [], user: { uid: 1000, gid: 1000 }, readOnly: true, init: true, capAdd: ['CAP_SYS_TIME'], capDrop: ['CAP_NET_RAW'],
    labels: { a: 'b=c', flag: '' }, extraHosts: ['fd00::1\th.example'], dns: { servers: [], search: ['x.test'], options: [] }, envFiles: [],
  });
  t.deepEqual(parseUser('0:5'), { uid: 0, gid: 5 });
});

test('env files and capability sets', (t) => {
  process.env.TSCNI_TEST_PASS = 'through';
  t.deepEqual(parseEnvFile('# c\nA=1\n\nTSCNI_TEST_PASS\nTSCNI_TEST_UNSET\nB= spaced \n', 'f'), ['A=1', 'TSCNI_TEST_PASS=through', 'B= spaced ']);
  t.throws(() => parseEnvFile('=x\n', 'f'), { message: 'invalid --env-file f line 1: "=x"' });
  t.deepEqual(capabilities(['CAP_NET_ADMIN'], ['ALL']), ['CAP_NET_ADMIN']);
  t.false(capabilities([], ['CAP_CHOWN']).includes('CAP_CHOWN'));
  t.is(capabilities(['ALL'], []).length, 41);
});
