// Value parsers for container flags: memory sizes, cpus, pids, env.

import { UsageError } from './errors.ts';

export function parseMemory(v: string): number {
  const m = /^(\d+(?:\.\d+)?)([bkmg]?)b?$/i.exec(v.trim());
  if (!m) throw new UsageError(`invalid --memory ${JSON.stringify(v)}: expected a size like 64m or 1g`);
  const mult = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'b' | 'k' | 'm' | 'g'];
  const n = Math.floor(Number(m[1]) * mult);
  if (n < 6 * 1024 * 1024) throw new UsageError(`invalid --memory ${v}: the minimum is 6m`);
  return n;
}

export function parseCpus(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`invalid --cpus ${JSON.stringify(v)}: expected a positive number like 0.5`);
  return n;
}

export function parsePids(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`invalid --pids-limit ${JSON.stringify(v)}: expected a positive integer`);
  return n;
}

export function parseEnv(list: string[]): string[] {
  return list.map((e) => {
    if (!/^[^=]+=/.test(e)) {
      const v = process.env[e];
      if (v === undefined) throw new UsageError(`invalid -e ${JSON.stringify(e)}: expected KEY=VALUE`);
      return `${e}=${v}`;
    }
    return e;
  });
}
