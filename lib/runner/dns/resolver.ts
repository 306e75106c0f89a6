// `tscni __resolver NET GATEWAY[,GATEWAY6] CIDR[,CIDR6] [UPSTREAM...]`: a network's embedded DNS (aardvark-dns's
// idea), one process per user network, on the gateway addresses (IPv4, and IPv6 on a dual-stack network), port 53
// over UDP and TCP (transport.ts), in the host's netns. It answers the containers' names
// from the container store itself (re-read at most every 200 ms: no feed to keep in step, nothing to replay after
// a crash) and forwards every other name to the host's upstream resolvers. Only clients inside CIDR are served.
// The release that leaves the network unused stops it (manager.ts); it also exits by itself, removing its pid file
// under the network's lock, once no container uses the network (a release that could not stop it, a crash).

import { existsSync, rmSync } from 'node:fs';
import { loadAllConfLists } from '../../libcni/conflist.ts';
import { makeCtx, type Ctx } from '../context.ts';
import { withLock } from '../lock.ts';
import { alive } from '../container/pid.ts';
import { dnsEnabled } from '../networks.ts';
import { buildAnswer, buildError, parseQuery, RCODE, TYPE, type Question } from './codec.ts';
import { attachmentsOf, inSubnet, lookup, type Attachment } from './records.ts';
import { resolverFiles, resolverUsers, writePidFile } from './manager.ts';
import { forward, listenDns } from './transport.ts';

const RESCAN_MS = 200;
const IDLE_CHECK_MS = 1000;
const UPSTREAM_TIMEOUT_MS = 2000;

interface View {
  at: number;
  atts: Attachment[];
  dns: Set<string>;
  users: number;
}

function scan(ctx: Ctx, net: string): View {
  const all = ctx.containers.all();
  const live = all.filter((c) => c.status === 'running' && alive(c.monitorPid));
  const dns = new Set(loadAllConfLists(ctx.paths.netconfDir).lists.filter(dnsEnabled).map((l) => l.name));
  const users = resolverUsers(all, net);
  return { at: Date.now(), atts: live.flatMap(attachmentsOf), dns, users };
}

async function answer(msg: Buffer, from: string, tcp: boolean, o: { net: string; cidrs: string[]; upstreams: string[]; view: () => View }): Promise<Buffer | undefined> {
  let q: Question | undefined;
  try {
    q = parseQuery(msg);
  } catch {
    return buildError(msg, RCODE.FORMERR);
  }
  if (!q) return undefined;
  if (!o.cidrs.some((c) => inSubnet(from, c))) return buildAnswer(q, RCODE.REFUSED, []);
  if (q.opcode === 0 && q.qclass === 1 && (q.type === TYPE.A || q.type === TYPE.AAAA)) {
    const v = o.view();
    const addrs = lookup(v.atts, o.net, from, q.name, v.dns);
    if (addrs) return buildAnswer(q, RCODE.NOERROR, addrs);
  }
  return (await forward(msg, o.upstreams, tcp, UPSTREAM_TIMEOUT_MS)) ?? buildAnswer(q, RCODE.SERVFAIL, []);
}

export async function resolverMain(argv: string[]): Promise<number> {
  const [net, gatewayList, cidrList, ...upstreams] = argv;
  const gateways = gatewayList.split(',');
  const cidrs = cidrList.split(',');
  const ctx = makeCtx();
  const files = resolverFiles(ctx.paths.stateRoot, net);
  let cached: View | undefined;
  const view = () => (cached && Date.now() - cached.at < RESCAN_MS ? cached : (cached = scan(ctx, net)));
  for (const gw of gateways) {
    await listenDns(gw, (msg, from, tcp) => answer(msg, from, tcp, { net, cidrs, upstreams, view })).catch((err) => {
      process.stderr.write(`tscni resolver ${net}: cannot listen on ${gw.includes(':') ? `[${gw}]` : gw}:53: ${(err as Error).message}\n`);
      process.exit(1);
    });
  }
  writePidFile(files.pid, process.pid);
  // Two idle checks in a row, then a last one under the lock `ensureResolver` takes: a start that saw this
  // process alive has already registered its container, so it is counted here.
  let idle = 0;
  let busy = false;
  setInterval(() => {
    if (busy) return;
    // The state directory is gone (a test's, or the state root was wiped): nothing left to serve.
    if (!existsSync(files.dir)) process.exit(0);
    idle = scan(ctx, net).users === 0 ? idle + 1 : 0;
    if (idle < 2) return;
    busy = true;
    void withLock(files.lock, async () => {
      if (scan(ctx, net).users > 0) return false;
      rmSync(files.pid, { force: true });
      rmSync(files.log, { force: true });
      return true;
    }, { createDir: false }).catch(() => true).then((done) => {
      if (done) process.exit(0);
      idle = 0;
      busy = false;
    });
  }, IDLE_CHECK_MS);
  return new Promise<number>(() => undefined);
}
