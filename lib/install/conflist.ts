// Picks and renders the conflist an install writes: the default network from conf/, or a given file, with the
// host-local ranges replaced by a node's pod CIDRs (what a Kubernetes node installer does). Pure but for reads.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isIP } from 'node:net';

export interface Conflist { name: string; text: string; network: string }

/** The conflist to install: --conflist, else the single default network under conf/. */
export function locateConflist(source: string, given?: string): string {
  if (given) return given;
  const dir = join(source, 'conf');
  const found = existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.conflist')).sort() : [];
  if (found.length === 1) return join(dir, found[0]);
  const preferred = found.find((n) => /default|tscni/.test(n));
  if (preferred) return join(dir, preferred);
  throw new Error(found.length ? `several conflists in ${dir} (${found.join(', ')}): choose one with --conflist` : `no default conflist in ${dir}: pass --conflist FILE or --no-conflist`);
}

/** Checks a pod CIDR is an IPv4/IPv6 network address with a prefix length, and returns it normalised. */
export function parsePodCidr(cidr: string): string {
  const m = /^([0-9a-fA-F.:]+)\/(\d{1,3})$/.exec(cidr);
  const family = m ? isIP(m[1]) : 0;
  const bits = m ? Number(m[2]) : -1;
  if (!m || !family || bits > (family === 4 ? 32 : 128) || bits < (family === 4 ? 8 : 64)) {
    throw new Error(`invalid pod CIDR ${JSON.stringify(cidr)}: want an IPv4 /8-/32 or IPv6 /64-/128 network like 10.244.3.0/24`);
  }
  return `${m[1].toLowerCase()}/${bits}`;
}

type Json = Record<string, unknown>;

/** Parses and checks a conflist; with podCidrs, every host-local ipam gets exactly those ranges. */
export function renderConflist(path: string, text: string, installed: readonly string[], podCidrs: readonly string[], cniVersion?: string): Conflist {
  let conf: Json;
  try {
    conf = JSON.parse(text);
  } catch (err) {
    throw new Error(`conflist ${path}: not JSON: ${(err as Error).message}`);
  }
  if (typeof conf !== 'object' || conf === null || Array.isArray(conf)) throw new Error(`conflist ${path}: expected a JSON object`);
  if (typeof conf.name !== 'string' || !conf.name) throw new Error(`conflist ${path}: missing "name"`);
  if (typeof conf.cniVersion !== 'string') throw new Error(`conflist ${path}: missing "cniVersion"`);
  const plugins = conf.plugins;
  if (!Array.isArray(plugins) || !plugins.length) throw new Error(`conflist ${path}: "plugins" must be a non-empty list`);
  let hostLocal = 0;
  plugins.forEach((p: Json, i: number) => {
    if (typeof p?.type !== 'string') throw new Error(`conflist ${path}: plugins[${i}] has no "type"`);
    if (!installed.includes(p.type)) throw new Error(`conflist ${path}: plugins[${i}].type ${JSON.stringify(p.type)} is not an installed tscni plugin (${installed.join(', ')})`);
    const ipam = p.ipam as Json | undefined;
    if (ipam !== undefined && (typeof ipam?.type !== 'string' || !installed.includes(ipam.type))) {
      throw new Error(`conflist ${path}: plugins[${i}].ipam.type ${JSON.stringify(ipam?.type)} is not an installed tscni plugin (${installed.join(', ')})`);
    }
    if (ipam?.type === 'host-local') {
      hostLocal++;
      if (podCidrs.length) {
        ipam.ranges = podCidrs.map((c) => [{ subnet: parsePodCidr(c) }]);
        delete ipam.subnet;
        delete ipam.rangeStart;
        delete ipam.rangeEnd;
        delete ipam.gateway;
      }
    }
  });
  if (cniVersion) conf.cniVersion = cniVersion;
  if (podCidrs.length && !hostLocal) throw new Error(`conflist ${path}: no host-local ipam to put the pod CIDR ${podCidrs.join(', ')} in`);
  return { name: basename(path), network: conf.name, text: JSON.stringify(conf, null, 2) + '\n' };
}

export function loadConflist(path: string, installed: readonly string[], podCidrs: readonly string[], cniVersion?: string): Conflist {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`conflist ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return renderConflist(path, text, installed, podCidrs, cniVersion);
}
