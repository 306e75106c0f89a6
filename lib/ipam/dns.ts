// Reads a resolv.conf into the CNI result's dns block (nameserver, domain, search, options), as host-local does.

import { readFileSync } from 'node:fs';
import { CniError, Code } from '../cni/errors.ts';
import type { DNS } from '../cni/result.ts';

export function parseResolvConfText(text: string): DNS {
  const dns: DNS = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const f = line.split(/\s+/);
    if (f[0] === 'nameserver' && f[1]) (dns.nameservers ??= []).push(f[1]);
    else if (f[0] === 'domain' && f[1]) dns.domain = f[1];
    else if (f[0] === 'search' && f.length > 1) (dns.search ??= []).push(...f.slice(1));
    else if (f[0] === 'options' && f.length > 1) (dns.options ??= []).push(...f.slice(1));
  }
  return dns;
}

export function readResolvConf(path: string): DNS {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CniError(Code.Io, `cannot read ipam.resolvConf ${JSON.stringify(path)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseResolvConfText(text);
}
