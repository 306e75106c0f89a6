// Reads a container's JSON-lines log (docker's json-file shape): print, follow until exit, with timestamps.

import { openSync, readSync, closeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerState } from './store.ts';
import type { Ctx } from '../context.ts';

export interface LogOptions {
  follow: boolean;
  timestamps: boolean;
  tail?: number;
}

interface Entry {
  log: string;
  stream: 'stdout' | 'stderr';
  time: string;
}

export async function printLogs(ctx: Ctx, c: ContainerState, o: LogOptions, out: (s: string) => void, err: (s: string) => void): Promise<void> {
  const file = join(ctx.containers.dir(c.id), 'container.log');
  let offset = 0;
  let partial = '';
  let first = true;
  const buf = Buffer.alloc(64 * 1024);
  const drain = () => {
    if (!existsSync(file)) return;
    const fd = openSync(file, 'r');
    try {
      let text = '';
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, offset);
        if (n <= 0) break;
        offset += n;
        text += buf.subarray(0, n).toString('utf8');
      }
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      let entries = lines.filter(Boolean).map((l) => JSON.parse(l) as Entry);
      if (first && o.tail !== undefined) entries = entries.slice(Math.max(0, entries.length - o.tail));
      first = false;
      for (const e of entries) (e.stream === 'stderr' ? err : out)(o.timestamps ? `${e.time} ${e.log}` : e.log);
    } finally {
      closeSync(fd);
    }
  };
  drain();
  if (!o.follow) return;
  for (;;) {
    const s = ctx.containers.load(c.id);
    drain();
    if (!s || s.status === 'exited') {
      drain();
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
