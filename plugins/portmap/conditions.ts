// conditionsV4/conditionsV6 (pure): a small nftables match syntax turned into nft JSON expressions, and its set tag.

import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { unsupportedField } from '../../lib/cni/errors.ts';
import { ifnameProblem } from '../../lib/cni/names.ts';

export interface Conditions {
  /** Stable id of this pair of condition lists: names the set's chain and maps (`cond_<tag>`, `addr4_c<tag>` ...). */
  readonly tag: string;
  readonly v4: readonly unknown[];
  readonly v6: readonly unknown[];
}

const SELECTORS: Record<string, { left: unknown; kind: 'addr4' | 'addr6' | 'name' | 'number' }> = {
  'ip saddr': { left: { payload: { protocol: 'ip', field: 'saddr' } }, kind: 'addr4' },
  'ip daddr': { left: { payload: { protocol: 'ip', field: 'daddr' } }, kind: 'addr4' },
  'ip6 saddr': { left: { payload: { protocol: 'ip6', field: 'saddr' } }, kind: 'addr6' },
  'ip6 daddr': { left: { payload: { protocol: 'ip6', field: 'daddr' } }, kind: 'addr6' },
  iifname: { left: { meta: { key: 'iifname' } }, kind: 'name' },
  oifname: { left: { meta: { key: 'oifname' } }, kind: 'name' },
  'meta iifname': { left: { meta: { key: 'iifname' } }, kind: 'name' },
  'meta oifname': { left: { meta: { key: 'oifname' } }, kind: 'name' },
  'meta mark': { left: { meta: { key: 'mark' } }, kind: 'number' },
  'th sport': { left: { payload: { protocol: 'th', field: 'sport' } }, kind: 'number' },
};
const OPS: Record<string, string> = { '==': '==', eq: '==', '!=': '!=', ne: '!=' };

function value(raw: string, kind: string, key: string, tokens: readonly string[]): unknown {
  const bad = () => unsupportedField(key, tokens, `value ${JSON.stringify(raw)} does not fit its selector`);
  if (kind === 'number') {
    if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(raw)) throw bad();
    return Number(raw);
  }
  if (kind === 'name') {
    // An interface name, or nft's prefix wildcard `veth*`.
    const why = ifnameProblem(raw.endsWith('*') && raw.length > 1 ? raw.slice(0, -1) : raw);
    if (why !== undefined) throw unsupportedField(key, tokens, `value ${JSON.stringify(raw)} ${why}`);
    return raw;
  }
  const [addr, len, extra] = raw.split('/');
  const ok = kind === 'addr4' ? isIPv4(addr) : isIPv6(addr);
  const max = kind === 'addr4' ? 32 : 128;
  if (!ok || extra !== undefined || (len !== undefined && !(/^\d+$/.test(len) && +len <= max))) throw bad();
  return len === undefined ? addr : { prefix: { addr, len: +len } };
}

/**
 * Parses `selector [op] value` triples: selectors `ip saddr|daddr`, `ip6 saddr|daddr`, `iifname`, `oifname`,
 * `meta mark`, `th sport`; ops `==`/`!=` (or none); values an address or prefix, a name, a number, or an anonymous
 * set `{ a, b }`. Anything else is code 2 naming the token. Tokens may be split any way (the reference joins them).
 */
export function parseConditions(key: string, tokens: readonly string[]): unknown[] {
  const words = tokens.join(' ').replace(/([{},])/g, ' $1 ').split(/\s+/).filter(Boolean);
  const out: unknown[] = [];
  let i = 0;
  while (i < words.length) {
    const two = `${words[i]} ${words[i + 1] ?? ''}`;
    const selName = SELECTORS[two] ? two : SELECTORS[words[i]] ? words[i] : undefined;
    if (!selName) throw unsupportedField(key, tokens, `unknown match ${JSON.stringify(words[i])} (supported: ${Object.keys(SELECTORS).join(', ')})`);
    const sel = SELECTORS[selName];
    i += selName.split(' ').length;
    let op = '==';
    if (OPS[words[i]]) op = OPS[words[i++]];
    if (words[i] === undefined) throw unsupportedField(key, tokens, `${selName} needs a value`);
    let right: unknown;
    if (words[i] === '{') {
      const items: unknown[] = [];
      i++;
      while (words[i] !== '}') {
        if (words[i] === undefined) throw unsupportedField(key, tokens, 'unterminated set');
        if (words[i] !== ',') items.push(value(words[i], sel.kind, key, tokens));
        i++;
      }
      i++;
      right = { set: items };
    } else {
      right = value(words[i++], sel.kind, key, tokens);
    }
    out.push({ match: { op, left: sel.left, right } });
  }
  return out;
}

/** The frozen conditions of a network, or undefined when both lists are absent or empty. */
export function conditionsOf(v4: readonly string[], v6: readonly string[]): Conditions | undefined {
  if (!v4.length && !v6.length) return undefined;
  const tag = createHash('sha256').update(JSON.stringify([v4, v6])).digest('hex').slice(0, 8);
  return Object.freeze({ tag, v4: parseConditions('conditionsV4', v4), v6: parseConditions('conditionsV6', v6) });
}
