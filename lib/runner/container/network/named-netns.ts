// Container network namespaces: created and removed with `ip netns` (argv only), pinned at <netnsDir>/<name>.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RunnerError } from '../../cli/errors.ts';
import { capture } from '../../../exec/process.ts';

const IP = existsSync('/usr/sbin/ip') ? '/usr/sbin/ip' : existsSync('/sbin/ip') ? '/sbin/ip' : 'ip';

export function netnsPath(netnsDir: string, name: string): string {
  return join(netnsDir, name);
}

/** `loUp: false` leaves `lo` to the chain (the none mode's loopback plugin). */
export async function createNetns(name: string, opts: { loUp?: boolean } = {}): Promise<void> {
  const r = await capture(IP, ['netns', 'add', name]);
  if (r.exitCode !== 0) throw new RunnerError(`creating netns ${name}: ${r.stderr.trim()}`);
  // A fresh netns has lo down: the runner brings it up itself (one exec), so chains without loopback work too.
  if (opts.loUp !== false) await capture(IP, ['-n', name, 'link', 'set', 'lo', 'up']);
}

/** Removes the netns pin; a missing one is fine. */
export async function deleteNetns(netnsDir: string, name: string): Promise<void> {
  if (!existsSync(netnsPath(netnsDir, name))) return;
  const r = await capture(IP, ['netns', 'del', name]);
  if (r.exitCode !== 0 && existsSync(netnsPath(netnsDir, name))) throw new RunnerError(`removing netns ${name}: ${r.stderr.trim()}`);
}
