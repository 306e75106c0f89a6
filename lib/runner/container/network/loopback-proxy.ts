// Publishing on [::1] (-p [::1]:8080:80, the [::1] side of -p [::]:8080:80 and, on a dual-stack network, of
// -p 8080:80): a userland proxy, as docker's
// docker-proxy does, because the kernel cannot. A DNAT of ::1 to a container sends the SYN out (masqueraded), but the
// de-NATed answer, addressed to ::1 and arriving on the bridge, is dropped (IPv6 has no route_localnet; RFC 4291
// forbids ::1 on the wire). One process per container (`tscni __proxy ID TARGET PROTO/HOSTPORT/PORT...`) listens on
// [::1] for every such port and forwards to the container's address (its IPv6 one on a dual-stack network, else the
// IPv4 one). It only binds ::1, so no other host can reach it. Started at every start after the chain ADD, stopped
// at every release, it exits by itself when the container's directory goes.

import { createSocket, type Socket } from 'node:dgram';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { start } from '../../../exec/process.ts';
import { conflict } from '../../cli/errors.ts';
import type { Ctx } from '../../context.ts';
import { selfExecutable } from '../../paths.ts';
import { alive } from '../pid.ts';
import type { PortMapping } from '../store.ts';

const LOOPBACK6 = '::1';
const UDP_IDLE_MS = 30_000;

/**
 * Mappings the proxy serves on [::1]: those on ::1 itself, the [::1] side of the IPv6 wildcard `::` and, when the
 * container has an IPv6 address (`dualStack`), of a mapping without a host IP (docker publishes `-p 8080:80` on
 * 0.0.0.0 and [::], [::1] included); an IPv4-only network keeps `-p 8080:80` to portmap alone.
 */
export function proxiedPorts(ports: readonly PortMapping[], dualStack = false): PortMapping[] {
  return ports.filter((p) => (p.hostIP === LOOPBACK6 || p.hostIP === '::' || (dualStack && p.hostIP === '')) && p.protocol !== 'sctp');
}

/** Mappings the chain's portmap gets: all but the ::1 ones (the kernel cannot DNAT those; see above). */
export function kernelPorts<T extends Pick<PortMapping, 'hostIP'>>(ports: readonly T[]): T[] {
  return ports.filter((p) => p.hostIP !== LOOPBACK6);
}

const files = (dir: string) => ({ pid: join(dir, 'proxy.pid'), log: join(dir, 'proxy.log') });

/** The container's running proxy (its pid file, checked against /proc/<pid>/cmdline), if any. */
function proxyPid(dir: string, id: string): number | undefined {
  try {
    const pid = Number(readFileSync(files(dir).pid, 'utf8').trim());
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return alive(pid) && argv[argv.indexOf('__proxy') + 1] === id ? pid : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the container's [::1] proxy when it publishes there; waits until every port is bound (or says why not). */
export async function startProxy(ctx: Ctx, id: string, ports: readonly PortMapping[], target: string, dualStack = false): Promise<boolean> {
  const wanted = proxiedPorts(ports, dualStack);
  if (wanted.length === 0) return false;
  const dir = ctx.containers.dir(id);
  const f = files(dir);
  await stopProxy(ctx, id);
  const fd = openSync(f.log, 'w');
  let pid = 0;
  try {
    const specs = wanted.map((p) => `${p.protocol}/${p.hostPort}/${p.containerPort}`);
    const child = await start(process.execPath, [selfExecutable(), '__proxy', id, target, ...specs], { detached: true, stdio: ['ignore', fd, fd] });
    child.unref();
    pid = child.pid ?? 0;
  } finally {
    closeSync(fd);
  }
  for (let i = 0; i < 250 && alive(pid); i++) {
    if (proxyPid(dir, id) === pid) return true;
    await sleep(20);
  }
  const why = readFileSync(f.log, 'utf8').trim();
  await stopProxy(ctx, id);
  throw conflict(`cannot publish on [::1]: ${why || 'the proxy did not start within 5s'}`);
}

/** Stops the container's proxy (TERM, then KILL) and removes its files; forgives a proxy already gone. */
export async function stopProxy(ctx: Ctx, id: string): Promise<void> {
  const dir = ctx.containers.dir(id);
  const pid = proxyPid(dir, id);
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // gone in between
    }
  };
  if (pid) {
    signal(pid, 'SIGTERM');
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(20);
    if (alive(pid)) signal(pid, 'SIGKILL');
  }
  rmSync(files(dir).pid, { force: true });
  rmSync(files(dir).log, { force: true });
}

function serveTcp(port: number, target: string, targetPort: number): Promise<void> {
  const server = createServer((client) => {
    const upstream = connect({ host: target, port: targetPort });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: LOOPBACK6, port, exclusive: true, ipv6Only: true }, () => {
      server.removeAllListeners('error');
      server.on('error', () => undefined);
      resolve();
    });
  });
}

/** UDP: one upstream socket per client address, dropped after UDP_IDLE_MS without traffic. */
function serveUdp(port: number, target: string, targetPort: number): Promise<void> {
  const sock = createSocket({ type: 'udp6', ipv6Only: true });
  const flows = new Map<string, { up: Socket; timer?: NodeJS.Timeout }>();
  sock.on('message', (msg, from) => {
    const key = `${from.address}/${from.port}`;
    let flow = flows.get(key);
    if (!flow) {
      const up = createSocket(target.includes(':') ? 'udp6' : 'udp4');
      up.on('message', (reply) => sock.send(reply, from.port, from.address));
      up.on('error', () => undefined);
      flow = { up };
      flows.set(key, flow);
    }
    const f = flow;
    clearTimeout(f.timer);
    f.timer = setTimeout(() => {
      f.up.close();
      flows.delete(key);
    }, UDP_IDLE_MS);
    f.up.send(msg, targetPort, target);
  });
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ address: LOOPBACK6, port, exclusive: true }, () => {
      sock.removeAllListeners('error');
      sock.on('error', () => undefined);
      resolve();
    });
  });
}

/** `tscni __proxy ID TARGET PROTO/HOSTPORT/PORT...`: binds every port on [::1], then writes its pid file. */
export async function proxyMain(argv: string[]): Promise<number> {
  const [id, target, ...specs] = argv;
  const { makeCtx } = await import('../../context.ts');
  const dir = makeCtx().containers.dir(id);
  for (const s of specs) {
    const [proto, hostPort, port] = s.split('/');
    const serve = proto === 'udp' ? serveUdp : serveTcp;
    await serve(Number(hostPort), target, Number(port)).catch((err) => {
      const code = (err as NodeJS.ErrnoException).code;
      process.stderr.write(`Bind for [::1]:${hostPort}/${proto} failed: ${code === 'EADDRINUSE' ? 'port is already allocated (a host process listens on it)' : (err as Error).message}`);
      process.exit(1);
    });
  }
  writeFileSync(files(dir).pid, `${process.pid}\n`);
  process.on('SIGTERM', () => process.exit(0));
  // The container's directory is gone (rm, or a test's state wiped): nothing left to serve.
  setInterval(() => {
    if (!existsSync(dir)) process.exit(0);
  }, 1000);
  return new Promise<number>(() => undefined);
}
