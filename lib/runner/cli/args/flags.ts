// Value parsers for container flags: memory sizes, cpus, pids, env; and run's process and /etc flags (-w, -u,
// --entrypoint, --read-only, --cap-add/--cap-drop, --label, --env-file, --add-host, --dns...), checked before anything exists.

import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { isIP } from 'node:net';
import { list, str, bool, type Parsed } from './argv.ts';
import { UsageError } from '../errors.ts';
import { ALL_CAPS } from '../../container/bundle.ts';
import type { ContainerState } from '../../container/store.ts';


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

export const RUN_OPTION_VALUES = ['workdir', 'user', 'entrypoint'];
export const RUN_OPTION_MULTI = ['cap-add', 'cap-drop', 'label', 'env-file', 'add-host', 'dns', 'dns-search', 'dns-option'];
export const RUN_OPTION_BOOLS = ['read-only', 'init'];

export type RunOptions = Pick<ContainerState, 'user' | 'readOnly' | 'capAdd' | 'capDrop' | 'labels' | 'extraHosts' | 'dns' | 'init'> & { workdir?: string; entrypoint?: string[]; envFiles: string[] };

function capName(c: string, flag: string): string {
  const n = c.toUpperCase().replace(/^CAP_/, '');
  if (n === 'ALL') return 'ALL';
  if (!ALL_CAPS.includes(`CAP_${n}`)) throw new UsageError(`invalid ${flag} ${JSON.stringify(c)}: unknown capability`);
  return `CAP_${n}`;
}

export function parseUser(v: string): { uid: number; gid: number } {
  const m = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(v);
  if (!m || Number(m[1]) > 0xfffffffe || (m[2] !== undefined && Number(m[2]) > 0xfffffffe)) {
    throw new UsageError(`invalid --user ${JSON.stringify(v)}: expected UID[:GID] (numbers; names are not looked up)`);
  }
  return { uid: Number(m[1]), gid: m[2] === undefined ? Number(m[1]) : Number(m[2]) };
}

/** KEY=VALUE lines; `#` comments and blank lines skipped; a bare KEY takes this process's value. */
export function parseEnvFile(text: string, file: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    if (/^\s|^=/.test(line)) throw new UsageError(`invalid --env-file ${file} line ${i + 1}: ${JSON.stringify(line)}`);
    if (line.includes('=')) out.push(line);
    else if (process.env[line] !== undefined) out.push(`${line}=${process.env[line]}`);
  });
  return out;
}

const HOSTNAME = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

export function parseRunOptions(p: Parsed): RunOptions {
  const workdir = str(p, 'workdir');
  if (workdir !== undefined && !isAbsolute(workdir)) throw new UsageError(`invalid --workdir ${JSON.stringify(workdir)}: must be absolute`);
  const ep = str(p, 'entrypoint');
  const labels: Record<string, string> = {};
  for (const l of list(p, 'label')) {
    const i = l.indexOf('=');
    const k = i < 0 ? l : l.slice(0, i);
    if (!k) throw new UsageError(`invalid --label ${JSON.stringify(l)}: expected KEY[=VALUE]`);
    labels[k] = i < 0 ? '' : l.slice(i + 1);
  }
  const extraHosts = list(p, 'add-host').map((h) => {
    const i = h.indexOf(':');
    const [name, ip] = i < 0 ? [h, ''] : [h.slice(0, i), h.slice(i + 1).replace(/^\[|\]$/g, '')];
    if (!HOSTNAME.test(name) || !isIP(ip)) throw new UsageError(`invalid --add-host ${JSON.stringify(h)}: expected HOST:IP`);
    return `${ip}\t${name}`;
  });
  for (const s of list(p, 'dns')) if (!isIP(s)) throw new UsageError(`invalid --dns ${JSON.stringify(s)}: expected an IP address`);
  for (const s of list(p, 'dns-search')) if (s !== '.' && !HOSTNAME.test(s)) throw new UsageError(`invalid --dns-search ${JSON.stringify(s)}: expected a domain`);
  for (const s of list(p, 'dns-option')) if (!/^[a-z0-9_-]+(:\d+)?$/.test(s)) throw new UsageError(`invalid --dns-option ${JSON.stringify(s)}`);
  const envFiles = list(p, 'env-file').flatMap((f) => {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (err) {
      throw new UsageError(`invalid --env-file ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    return parseEnvFile(text, f);
  });
  const dnsGiven = list(p, 'dns').length + list(p, 'dns-search').length + list(p, 'dns-option').length > 0;
  return {
    workdir,
    entrypoint: ep === undefined ? undefined : ep === '' ? [] : [ep],
    user: str(p, 'user') === undefined ? undefined : parseUser(str(p, 'user')!),
    readOnly: bool(p, 'read-only') || undefined,
    init: bool(p, 'init') || undefined,
    capAdd: list(p, 'cap-add').map((c) => capName(c, '--cap-add')),
    capDrop: list(p, 'cap-drop').map((c) => capName(c, '--cap-drop')),
    labels,
    extraHosts,
    dns: dnsGiven ? { servers: list(p, 'dns'), search: list(p, 'dns-search'), options: list(p, 'dns-option') } : undefined,
    envFiles: parseEnv(envFiles),
  };
}
