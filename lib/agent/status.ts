// The agent's status file (written after every pass, atomically) and `tscni agent status` (a table or --json).

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { table } from '../runner/cli/args/table.ts';
import type { AgentConfig, Peer } from './config.ts';
import type { PeerPlan } from './plan.ts';

export const DEFAULT_STATE_DIR = '/run/tscni/agent';

export interface PeerStatus { name: string; addresses: string[]; podCIDRs: string[]; state: string; entries: number }
export interface AgentStatus {
  node: string;
  backend: string;
  pid: number;
  config: string;
  /** When the last pass ended, and what it changed. */
  /** `pass`: a full one (reads the kernel) or a delta (only the changed peers); `ms`: how long it took. */
  lastSync?: { at: string; changes: string[]; error?: string; pass?: 'full' | 'delta'; ms?: number };
  /** When the last pass that changed something ended. */
  lastChange?: string;
  configError?: string;
  peers: PeerStatus[];
}

export type StatusHead = Omit<AgentStatus, 'peers'>;

/** A peer's row: `self`, `synced` (with the number of kernel entries the agent keeps for it), or `error: why`. */
export function peerRow(cfg: AgentConfig, peer: Peer, plans: ReadonlyMap<string, PeerPlan> | undefined, error?: string, failures?: ReadonlyMap<string, string>): PeerStatus {
  const p = plans?.get(peer.name);
  const entries = p ? p.routes.length + p.neigh.length + p.fdb.length : 0;
  const failed = failures?.get(peer.name);
  const state = peer.name === cfg.node ? 'self' : error ? 'error' : failed ? `error: ${failed}` : 'synced';
  return { name: peer.name, addresses: [...peer.addresses], podCIDRs: [...peer.podCIDRs], state, entries };
}

/** The rows as JSON text per peer, kept between passes: a pass that changed k peers re-serialises k rows. */
export class StatusRows {
  private readonly rows = new Map<string, string>();

  /** Every row anew (a full pass, or an error that concerns every peer). */
  reset(cfg: AgentConfig, plans: ReadonlyMap<string, PeerPlan> | undefined, error?: string, failures?: ReadonlyMap<string, string>): void {
    this.rows.clear();
    for (const peer of cfg.peers) this.rows.set(peer.name, JSON.stringify(peerRow(cfg, peer, plans, error, failures)));
  }

  set(cfg: AgentConfig, peer: Peer, plans: ReadonlyMap<string, PeerPlan>, failures?: ReadonlyMap<string, string>): void {
    this.rows.set(peer.name, JSON.stringify(peerRow(cfg, peer, plans, undefined, failures)));
  }

  delete(name: string): void {
    this.rows.delete(name);
  }

  /** The rows in the config's peer order. */
  list(cfg: AgentConfig): string[] {
    return cfg.peers.map((p) => this.rows.get(p.name) ?? JSON.stringify(peerRow(cfg, p, undefined)));
  }
}

/** Writes status.json atomically: the head, then the peers' rows as they are (one per line). */
export function writeStatus(dir: string, head: StatusHead, rows: readonly string[]): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const tmp = join(dir, `.status.${process.pid}.json`);
  writeFileSync(tmp, `${JSON.stringify(head).slice(0, -1)},"peers":[\n${rows.join(',\n')}\n]}\n`);
  renameSync(tmp, join(dir, 'status.json'));
}

export function readStatus(dir: string): AgentStatus | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')) as AgentStatus;
  } catch {
    return undefined;
  }
}

export function renderStatus(s: AgentStatus): string {
  const head = [`node ${s.node}   backend ${s.backend}   pid ${s.pid}   config ${s.config}`];
  if (s.lastSync) head.push(`last sync ${s.lastSync.at}: ${s.lastSync.error ? `failed: ${s.lastSync.error}` : `${s.lastSync.changes.length} change(s)`}`);
  if (s.configError) head.push(`config not applied: ${s.configError}`);
  const rows = s.peers.map((p) => [p.name, p.addresses.join(','), p.podCIDRs.join(','), p.state, String(p.entries)]);
  return head.join('\n') + '\n' + table(['PEER', 'ADDRESS', 'POD CIDRS', 'STATE', 'ENTRIES'], rows);
}
