// Shared setup of the portmap kernel tests: configs, calls through the built executable, and read-back of the table
// with nft itself (`nft -j list` JSON, a different tool from the plugin's writer).

import type { ExecutionContext } from 'ava';
import { callPlugin } from '../../helpers/plugin.ts';
import type { TestNetns } from '../../helpers/netns.ts';
import type { BridgeHost, Container } from '../../helpers/veth-container.ts';

export const NFT = '/usr/sbin/nft';
export const NET = 'pmnet';

export type Mapping = Record<string, unknown>;
export const conf = (c: Container, mappings: Mapping[] | undefined, extra: Record<string, unknown> = {}) => ({
  cniVersion: '1.1.0',
  name: NET,
  type: 'portmap',
  ...(mappings ? { runtimeConfig: { portMappings: mappings } } : {}),
  prevResult: c.prevResult,
  ...extra,
});

export function call(fx: BridgeHost, command: string, c: Container, stdin: unknown, id = c.id) {
  return callPlugin('portmap', { command, containerId: id, netns: c.ns.path, ifname: 'eth0' }, stdin, { hostNetns: fx.host.name });
}

/** The table as nft prints it (a different tool from the plugin's JSON writer), or '' when absent. */
export const tableText = (h: TestNetns) => h.try([NFT, 'list', 'table', 'inet', 'tscni_portmap']).stdout;
export const tableJson = (h: TestNetns) => h.try([NFT, '-j', 'list', 'table', 'inet', 'tscni_portmap']).stdout;
/** Every map's and set's elements as `nft -j list` prints them (a different tool from the plugin's writer): name → elem. */
export function elements(h: TestNetns): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const o of JSON.parse(tableJson(h) || '{"nftables":[]}').nftables) {
    const s = o.map ?? o.set;
    if (s) out[s.name] = s.elem ?? [];
  }
  return out;
}
/** The owner comments of every element, in listing order. */
export const comments = (h: TestNetns): string[] =>
  Object.values(elements(h)).flat().map((e: any) => (Array.isArray(e) ? e[0] : e)?.elem?.comment).filter((c): c is string => typeof c === 'string');
/** A map element with an owner comment, as nft lists it. */
export const owned = (key: unknown, value: unknown, comment: string) => [{ elem: { val: key, comment } }, value];
export const sysctl = (h: TestNetns, key: string) => h.run(['cat', `/proc/sys/${key}`]).trim();

export async function added(t: ExecutionContext, fx: BridgeHost, c: Container, mappings: Mapping[], extra: Record<string, unknown> = {}) {
  const r = await call(fx, 'ADD', c, conf(c, mappings, extra));
  t.is(r.code, 0, r.stdout + r.stderr);
  return r;
}
