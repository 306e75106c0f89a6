// Stand-alone entry for the installer (`node lib/install/main.ts install|uninstall ...`), used where the runner's
// CLI is not at hand (the Kubernetes installer image); `tscni install` dispatches to the same functions.

import { runInstall } from './install.ts';
import { runUninstall } from './uninstall.ts';

const [verb, ...rest] = process.argv.slice(2);
const run = verb === 'install' ? runInstall : verb === 'uninstall' ? runUninstall : undefined;
if (!run) {
  process.stderr.write('usage: main.ts install|uninstall [options] (--help for each)\n');
  process.exitCode = 2;
} else {
  run(rest).then((code) => (process.exitCode = code));
}
