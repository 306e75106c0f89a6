// bridge config: the raw network config + CNI_ARGS parsed into one frozen, fully-defaulted value (pure, no kernel).

import { CniError, Code, invalidConfig, unsupportedField } from '../../lib/cni/errors.ts';
import { parseCniArgs } from '../../lib/cni/env.ts';
import { checkIfname, checkPluginType } from '../../lib/cni/names.ts';
import { parseDNS, type DNS } from '../../lib/cni/result.ts';

export interface VlanRange { readonly min: number; readonly max: number }

export interface Owner { readonly network: string; readonly containerId: string; readonly ifname: string }

export interface BridgeConfig {
  readonly network: string;
  readonly cniVersion: string;
  readonly bridge: string;
  readonly isGateway: boolean;
  readonly isDefaultGateway: boolean;
  readonly forceAddress: boolean;
  readonly ipMasq: boolean;
  readonly ipMasqBackend: 'nftables';
  /** 0 means the kernel default (the bridge's MTU for the veth pair). */
  readonly mtu: number;
  readonly hairpinMode: boolean;
  readonly promiscMode: boolean;
  readonly vlan: number;
  readonly vlanTrunk: readonly VlanRange[];
  readonly preserveDefaultVlan: boolean;
  readonly macspoofchk: boolean;
  readonly enabledad: boolean;
  readonly disableContainerInterface: boolean;
  readonly portIsolation: boolean;
  /** The IPAM plugin type, or undefined for an L2-only network. */
  readonly ipamType?: string;
  readonly dns?: DNS;
  /** Requested container MAC (runtimeConfig.mac > args.cni.mac > CNI_ARGS MAC=), lower case. */
  readonly mac?: string;
  readonly vlanFiltering: boolean;
}

const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const BOOL_KEYS = [
  'isGateway', 'isDefaultGateway', 'forceAddress', 'ipMasq', 'hairpinMode', 'promiscMode', 'preserveDefaultVlan',
  'macspoofchk', 'enabledad', 'disableContainerInterface', 'portIsolation',
] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function bool(conf: Record<string, unknown>, key: string): boolean {
  const v = conf[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw invalidConfig(key, v, 'must be true or false');
  return v;
}

function int(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalidConfig(field, v, `must be an integer ${min}-${max}`);
  return v;
}

/** Validates a MAC (six colon-separated hex bytes, unicast) and returns it in lower case. */
export function parseMac(v: unknown, field: string): string {
  if (typeof v !== 'string' || !MAC_RE.test(v)) throw invalidConfig(field, v, 'must be a MAC address like 02:42:ac:11:00:02');
  const mac = v.toLowerCase();
  if (parseInt(mac.slice(0, 2), 16) & 1) throw invalidConfig(field, v, 'is a multicast MAC address; a container needs a unicast one');
  return mac;
}

function parseTrunk(v: unknown): VlanRange[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalidConfig('vlanTrunk', v, 'must be a list of {"id": n} or {"minID": n, "maxID": m}');
  return v.map((t, i) => {
    const field = `vlanTrunk[${i}]`;
    if (!isObject(t)) throw invalidConfig(field, t, 'must be {"id": n} or {"minID": n, "maxID": m}');
    if (t.id !== undefined && t.id !== null) {
      const id = int(t.id, `${field}.id`, 1, 4094);
      return { min: id, max: id };
    }
    if (t.minID === undefined || t.maxID === undefined) throw invalidConfig(field, t, 'needs both minID and maxID (or id)');
    const min = int(t.minID, `${field}.minID`, 1, 4094);
    const max = int(t.maxID, `${field}.maxID`, 1, 4094);
    if (min > max) throw invalidConfig(field, t, `minID ${min} is greater than maxID ${max}`);
    return { min, max };
  });
}

function pickMac(conf: Record<string, unknown>, cniArgs: Map<string, string>): string | undefined {
  const rc = conf.runtimeConfig;
  if (isObject(rc) && rc.mac !== undefined && rc.mac !== null && rc.mac !== '') return parseMac(rc.mac, 'runtimeConfig.mac');
  const args = conf.args;
  if (isObject(args) && isObject(args.cni) && args.cni.mac !== undefined && args.cni.mac !== null && args.cni.mac !== '') {
    return parseMac(args.cni.mac, 'args.cni.mac');
  }
  const m = cniArgs.get('MAC');
  if (m !== undefined && m !== '') return parseMac(m, 'CNI_ARGS MAC');
  return undefined;
}

/** Parses the network config (any verb); throws code 7 (or 2 for unsupported values) naming the field and value. */
export function parseBridgeConfig(conf: Record<string, unknown>, cniArgsRaw = ''): BridgeConfig {
  const network = String(conf.name);
  const bridge = checkIfname(conf.bridge === undefined || conf.bridge === null || conf.bridge === '' ? 'cni0' : conf.bridge, 'bridge');
  const flags = Object.fromEntries(BOOL_KEYS.map((k) => [k, bool(conf, k)])) as Record<(typeof BOOL_KEYS)[number], boolean>;
  let backend = conf.ipMasqBackend;
  if (backend === undefined || backend === null || backend === '') backend = 'nftables';
  if (backend === 'iptables') {
    throw unsupportedField('ipMasqBackend', backend, 'tscni masquerades with nftables only (table inet tscni_bridge); use "nftables" or leave it out');
  }
  if (typeof backend !== 'string') throw invalidConfig('ipMasqBackend', backend, 'must be "nftables"');
  if (backend !== 'nftables') throw unsupportedField('ipMasqBackend', backend, 'must be "nftables"');
  // 0 is no MTU a link can have: tscni refuses it (the reference takes it as "unset"); leave mtu out for the default.
  const mtu = conf.mtu === undefined || conf.mtu === null ? 0 : int(conf.mtu, 'mtu', 68, 65535);
  const vlan = conf.vlan === undefined || conf.vlan === null ? 0 : int(conf.vlan, 'vlan', 0, 4094);
  const vlanTrunk = parseTrunk(conf.vlanTrunk);
  if (flags.hairpinMode && flags.promiscMode) {
    throw new CniError(Code.InvalidConfig, 'invalid hairpinMode true with promiscMode true: the two cannot be set at the same time');
  }
  if (vlan && (flags.isGateway || flags.isDefaultGateway)) {
    // The reference puts the gateway on a `<bridge>.<vlan>` link; tscni does not build that yet, and a gateway on
    // the bridge itself would sit outside the VLAN and silently not answer.
    throw unsupportedField('vlan', vlan, `with ${flags.isDefaultGateway ? 'isDefaultGateway' : 'isGateway'} true: tscni does not create the per-VLAN gateway interface yet; use vlan without a gateway`);
  }
  let ipamType: string | undefined;
  if (conf.ipam !== undefined && conf.ipam !== null) {
    if (!isObject(conf.ipam)) throw invalidConfig('ipam', conf.ipam, 'must be an object');
    const t = conf.ipam.type;
    if (t !== undefined && t !== null && t !== '') {
      ipamType = checkPluginType(t, 'ipam.type');
    }
  }
  if (flags.disableContainerInterface && ipamType) {
    throw new CniError(Code.InvalidConfig, `invalid disableContainerInterface true with ipam.type ${JSON.stringify(ipamType)}: a container interface left down cannot carry IPAM addresses`);
  }
  const cniArgs = parseCniArgs(cniArgsRaw, ['IP', 'MAC']);
  const dns = parseDNS(conf.dns, 'dns');
  const cfg: BridgeConfig = {
    network,
    cniVersion: String(conf.cniVersion),
    bridge,
    isGateway: flags.isGateway || flags.isDefaultGateway,
    isDefaultGateway: flags.isDefaultGateway,
    forceAddress: flags.forceAddress,
    ipMasq: flags.ipMasq,
    ipMasqBackend: 'nftables',
    mtu,
    hairpinMode: flags.hairpinMode,
    promiscMode: flags.promiscMode,
    vlan,
    vlanTrunk,
    preserveDefaultVlan: flags.preserveDefaultVlan,
    macspoofchk: flags.macspoofchk,
    enabledad: flags.enabledad,
    disableContainerInterface: flags.disableContainerInterface,
    portIsolation: flags.portIsolation,
    ipamType,
    dns: dns && Object.keys(dns).length ? dns : undefined,
    mac: pickMac(conf, cniArgs),
    vlanFiltering: vlan !== 0 || vlanTrunk.length > 0,
  };
  return Object.freeze(cfg);
}
