// Shared inputs of the portmap unit tests: a config builder, two container addresses and an nft 1.0.6 listing.

import { parseConfig } from '../../../plugins/portmap/config.ts';
import { TABLE } from '../../../plugins/portmap/rules.ts';

export const T = { family: 'inet', table: TABLE };
export const cfgOf = (portMappings: unknown[], extra: Record<string, unknown> = {}) => parseConfig({ cniVersion: '1.1.0', name: 'net', ...extra, runtimeConfig: { portMappings } });
export const v4 = { family: 4 as const, address: '10.88.0.5', subnet: '10.88.0.0', prefixLen: 24 };
export const v6 = { family: 6 as const, address: 'fd88::5', subnet: 'fd88::', prefixLen: 64 };

// A listing as `nft -j list table inet tscni_portmap` prints it (nft 1.0.6).
export const listing = [
  { metainfo: { version: '1.0.6' } },
  { table: { family: 'inet', name: TABLE, handle: 1 } },
  { map: { ...T, name: 'addr4_any', type: ['inet_proto', 'inet_service'], map: 'ipv4_addr', elem: [[{ elem: { val: { concat: ['tcp', 8080] }, comment: 'net c1 eth0' } }, '10.88.0.5']] } },
  { map: { ...T, name: 'port4_any', type: ['inet_proto', 'inet_service'], map: 'inet_service', elem: [[{ elem: { val: { concat: ['tcp', 8080] }, comment: 'net c1 eth0' } }, 80]] } },
  { map: { ...T, name: 'addr4', type: ['ipv4_addr', 'inet_proto', 'inet_service'], map: 'ipv4_addr', elem: [[{ elem: { val: { concat: ['10.0.0.1', 'udp', 53] }, comment: 'net c2 eth0' } }, '10.88.0.6']] } },
  { set: { ...T, name: 'all4', type: 'ipv4_addr', elem: [{ elem: { val: '10.88.0.5', comment: 'net c1 eth0' } }] } },
  { set: { ...T, name: 'hostips', type: 'ipv6_addr', elem: ['::ffff:10.0.0.1'] } },
];
