// Per-container /etc/hosts, /etc/resolv.conf and /etc/hostname, bind-mounted read-only into the container.

import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** docker's fallback when the host only has a loopback resolver (systemd-resolved, dnsmasq on 127.0.0.x). */
export const FALLBACK_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

function isLoopback(addr: string): boolean {
  return addr.startsWith('127.') || addr === '::1' || addr === '0.0.0.0';
}

/** The host's resolv.conf minus loopback nameservers; public resolvers when none are left. */
export function resolvConf(hostText: string, dns?: { servers: string[]; search: string[]; options: string[] }): string {
  const keep: string[] = [];
  let servers = 0;
  for (const line of hostText.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#') || t.startsWith(';')) continue;
    if (dns?.servers.length && /^nameserver\s/.test(t)) continue;
    if (dns?.search.length && /^(search|domain)\s/.test(t)) continue;
    if (dns?.options.length && /^options\s/.test(t)) continue;
    const m = /^nameserver\s+(\S+)/.exec(t);
    if (m) {
      if (isLoopback(m[1])) continue;
      servers++;
    }
    keep.push(t);
  }
  if (dns?.servers.length) {
    keep.push(...dns.servers.map((s) => `nameserver ${s}`));
    servers = dns.servers.length;
  }
  if (dns?.search.length) keep.push(`search ${dns.search.filter((s) => s !== '.').join(' ')}`.trimEnd());
  if (dns?.options.length) keep.push(`options ${dns.options.join(' ')}`);
  if (servers === 0) keep.push(...FALLBACK_NAMESERVERS.map((s) => `nameserver ${s}`));
  return keep.join('\n') + '\n';
}

export function hostsFile(hostname: string, name: string, ip: string | undefined, extra: readonly string[] = []): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', 'fe00::0\tip6-localnet', 'ff00::0\tip6-mcastprefix', 'ff02::1\tip6-allnodes', 'ff02::2\tip6-allrouters'];
  lines.push(...extra);
  if (ip) lines.push(`${ip}\t${[...new Set([hostname, name])].join(' ')}`);
  return lines.join('\n') + '\n';
}

/** The container's resolv.conf when its network has tscni's resolver: that one only, with the host's search/options. */
export function resolvConfWith(hostText: string, nameservers: readonly string[]): string {
  const keep = hostText.split('\n').map((l) => l.trim()).filter((t) => /^(search|domain|options)\s/.test(t));
  return [...nameservers.map((s) => `nameserver ${s}`), ...keep].join('\n') + '\n';
}

/** The container's resolv.conf: --dns given by the user wins over the network's resolver, as in Docker. */
export function resolvConfText(hostText: string, c: { dns?: { servers: string[]; search: string[]; options: string[] } }, nameservers?: readonly string[]): string {
  return !c.dns?.servers.length && nameservers?.length ? resolvConfWith(hostText, nameservers) : resolvConf(hostText, c.dns);
}

export function writeEtcFiles(dir: string, c: { hostname: string; name: string; extraHosts?: string[]; dns?: { servers: string[]; search: string[]; options: string[] } }, ip: string | undefined, nameservers?: readonly string[]): void {
  let host = '';
  try {
    host = readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    host = '';
  }
  writeFileSync(join(dir, 'resolv.conf'), resolvConfText(host, c, nameservers));
  writeFileSync(join(dir, 'hostname'), c.hostname + '\n');
  writeFileSync(join(dir, 'hosts'), hostsFile(c.hostname, c.name, ip, c.extraHosts));
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** --network host: the host's own /etc/hosts and resolv.conf as they are (its loopback resolvers work there). */
export function writeHostModeEtcFiles(dir: string, hostname: string): void {
  writeFileSync(join(dir, 'hosts'), readOr('/etc/hosts', hostsFile(hostname, hostname, undefined)));
  const resolv = readOr('/etc/resolv.conf', '');
  writeFileSync(join(dir, 'resolv.conf'), resolv.trim() ? resolv : resolvConf(''));
  writeFileSync(join(dir, 'hostname'), hostname + '\n');
}

/** --network container:X: X's files (copied, so removing X with -f cannot pull them from under the joiner). */
export function copyEtcFiles(fromDir: string, toDir: string): void {
  for (const f of ['hosts', 'resolv.conf', 'hostname']) copyFileSync(join(fromDir, f), join(toDir, f));
}
