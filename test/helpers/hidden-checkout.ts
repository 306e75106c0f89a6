// Runs a command as if the checkout and any system JS runtime did not exist: inside a private mount namespace (and
// the given netns) where the repository is covered by an empty tmpfs and every system node/bun by /dev/null, with
// PATH=/usr/bin:/bin.

import { spawnSync } from 'node:child_process';
import { ROOT } from './plugin.ts';

// $1 is the checkout to hide; the rest is the command. Paths come from the test, never from input.
const HIDE = 'mount -t tmpfs tscni-hide "$1" || exit 97; for r in /usr/bin/node /usr/local/bin/node /usr/bin/bun /usr/local/bin/bun; do if [ -e "$r" ]; then mount --bind /dev/null "$r" || exit 98; fi; done; shift; exec "$@"';

export interface HiddenRun { status: number; stdout: string; stderr: string }

export function runHidden(argv: string[], opts: { netns?: string; env?: Record<string, string>; input?: string } = {}): HiddenRun {
  const inner = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', HIDE, 'sh', ROOT, ...argv];
  const full = opts.netns ? ['ip', 'netns', 'exec', opts.netns, ...inner] : inner;
  const r = spawnSync(full[0], full.slice(1), { env: { PATH: '/usr/bin:/bin', ...opts.env }, input: opts.input ?? '', encoding: 'utf8', cwd: '/' });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
