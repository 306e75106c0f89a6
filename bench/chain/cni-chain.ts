// Drives one pod's chain the way libcni does: exec per plugin, CNI_* env + JSON stdin, prevResult threaded,
// runtimeConfig only for declared capabilities; loopback as its own network on lo, then bridge(+host-local), portmap.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { run } from './proc.ts';
import { nsPath } from './namespaces.ts';

const RUSAGE = fileURLToPath(new URL('./rusage.py', import.meta.url));

export const CNI_VERSION = '1.0.0';
export const NETWORK = 'tscni-bench';
export const SUBNET = '10.89.0.0/16';
export const GATEWAY = '10.89.0.1';
export const BRIDGE = 'tscnib0';
export const CONTAINER_PORT = 80;
export const hostPortOf = (index: number) => 20000 + index;

export interface Side {
  /** 'ref' or 'tscni'. */
  name: string;
  /** The CNI_PATH directory holding loopback, bridge, host-local and portmap. */
  dir: string;
  /** The private host netns name the plugins run in. */
  host: string;
  /** host-local's dataDir for this side. */
  dataDir: string;
  /** When set, every plugin runs under /usr/bin/time writing here, and pods record its rusage (peak RSS, CPU) via rusage.py. */
  rssDir?: string;
  /** Extra environment for every plugin of this side (e.g. BUN_OPTIONS=--cpu-prof-md for a profile). */
  extraEnv?: Record<string, string>;
}

export interface Usage { rssKiB: number; cpuMs: number }

export interface Pod {
  index: number;
  id: string;
  netns: string;
  ip?: string;
  result?: Record<string, unknown>;
  loResult?: Record<string, unknown>;
  add: Record<string, number>;
  del: Record<string, number>;
  /** wait4 rusage per "plugin VERB" (only when the side has rssDir); a plugin's includes the children it waited for. */
  usage: Record<string, Usage>;
  error?: string;
}

const loopbackConf = () => ({ cniVersion: CNI_VERSION, name: 'cni-loopback', type: 'loopback' });

export function networkConfs(side: Side): Record<string, unknown>[] {
  return [
    {
      type: 'bridge',
      bridge: BRIDGE,
      isGateway: true,
      ipMasq: true,
      hairpinMode: true,
      ipam: { type: 'host-local', ranges: [[{ subnet: SUBNET, gateway: GATEWAY }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: side.dataDir },
    },
    { type: 'portmap', capabilities: { portMappings: true }, snat: true },
  ];
}

/** What libcni writes on stdin for one plugin of a list: name and version injected, capabilities' runtimeConfig, prevResult. */
function pluginStdin(conf: Record<string, unknown>, pod: Pod, prevResult?: Record<string, unknown>): string {
  const out: Record<string, unknown> = { ...conf, cniVersion: CNI_VERSION, name: NETWORK };
  const caps = conf.capabilities as Record<string, boolean> | undefined;
  delete out.capabilities;
  if (caps?.portMappings) {
    out.runtimeConfig = { portMappings: [{ hostPort: hostPortOf(pod.index), containerPort: CONTAINER_PORT, protocol: 'tcp' }] };
  }
  if (prevResult) out.prevResult = prevResult;
  return JSON.stringify(out);
}

function env(side: Side, pod: Pod, command: string, ifname: string): Record<string, string> {
  return {
    PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: command,
    CNI_CONTAINERID: pod.id,
    CNI_NETNS: nsPath(pod.netns),
    CNI_IFNAME: ifname,
    CNI_PATH: side.dir,
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=pod-${pod.index}`,
    ...side.extraEnv,
  };
}

async function call(side: Side, pod: Pod, type: string, command: string, e: Record<string, string>, stdin: string): Promise<{ ms: number; out?: Record<string, unknown> }> {
  const exe = `${side.dir}/${type}`;
  const rssFile = side.rssDir && `${side.rssDir}/${pod.index}-${type}-${command}`;
  const argv = rssFile ? ['python3', RUSAGE, rssFile, exe] : [exe];
  const r = await run(argv, { netns: nsPath(side.host), env: e, input: stdin, timeoutMs: 60_000 });
  if (rssFile) {
    const [rss, user, sys, wall] = readFileSync(rssFile, 'utf8').trim().split(' ').map(Number);
    pod.usage[`${type} ${command}`] = { rssKiB: rss, cpuMs: user + sys };
    r.ms = wall; // the wrapper's own fork-to-reap time, without python's start-up
  }
  if (r.code !== 0) throw new Error(`${side.name} ${type} ${command} exit ${r.code}: ${(r.stdout || r.stderr).trim().slice(0, 400)}`);
  return { ms: r.ms, out: r.stdout.trim() ? JSON.parse(r.stdout) : undefined };
}

/** ADD: loopback network on lo, then the bridge/portmap list on eth0; records per-plugin and total wall ms. */
export async function addPod(side: Side, pod: Pod): Promise<void> {
  const t0 = performance.now();
  const lo = await call(side, pod, 'loopback', 'ADD', env(side, pod, 'ADD', 'lo'), JSON.stringify(loopbackConf()));
  pod.add.loopback = lo.ms;
  pod.loResult = lo.out;
  let prev: Record<string, unknown> | undefined;
  for (const conf of networkConfs(side)) {
    const type = conf.type as string;
    const r = await call(side, pod, type, 'ADD', env(side, pod, 'ADD', 'eth0'), pluginStdin(conf, pod, prev));
    pod.add[type] = r.ms;
    prev = r.out;
  }
  pod.add.total = performance.now() - t0;
  pod.result = prev;
  const ips = (prev?.ips as { address: string }[] | undefined) ?? [];
  pod.ip = ips[0]?.address.split('/')[0];
}

/** DEL: the list in reverse with the cached result as prevResult, then the loopback network. */
export async function delPod(side: Side, pod: Pod): Promise<void> {
  const t0 = performance.now();
  for (const conf of networkConfs(side).reverse()) {
    const type = conf.type as string;
    const r = await call(side, pod, type, 'DEL', env(side, pod, 'DEL', 'eth0'), pluginStdin(conf, pod, pod.result));
    pod.del[type] = r.ms;
  }
  const lo = await call(side, pod, 'loopback', 'DEL', env(side, pod, 'DEL', 'lo'), JSON.stringify({ ...loopbackConf(), ...(pod.loResult ? { prevResult: pod.loResult } : {}) }));
  pod.del.loopback = lo.ms;
  pod.del.total = performance.now() - t0;
}
