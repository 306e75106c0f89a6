// The agent's loop: validate the config, sync, then re-read it every 200 ms (a change is applied within a second,
// as a delta pass that costs the changed peers only) and re-sync in full every 10 s to repair drift. The config is the peers file, or with `"peersFrom": "kubernetes"` that
// file's settings plus the peers a list+watch of Node objects keeps (kube-nodes.ts). A config that stops
// validating changes nothing: the last good one stays in force and the error is logged and shown by the status.

import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { RunnerError } from '../runner/cli/errors.ts';
import { ConfigError, parseAgentConfig, type AgentConfig } from './config.ts';
import { DEFAULT_SA_DIR, NodeWatch } from './kube-nodes.ts';
import { StatusRows, writeStatus, type StatusHead } from './status.ts';
import { syncDelta, syncOnce } from './sync.ts';
import { planDelta } from './delta.ts';
import { PeerTable } from './peer-table.ts';
import type { PeerPlan } from './plan.ts';

export interface RunOptions { config: string; node?: string; stateDir: string; once: boolean }

const POLL_MS = 200;
const RESYNC_MS = 10_000;
const log = (line: string) => process.stderr.write(`tscni agent: ${line}\n`);

function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The config document's text: the file, or (peersFrom kubernetes) the file's settings with the API's peers. */
type Source = () => string;

async function openSource(o: RunOptions): Promise<{ read: Source; kube?: NodeWatch }> {
  const fileSource = () => readConfigFile(o.config);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(fileSource());
  } catch {
    return { read: fileSource }; // parseAgentConfig reports it
  }
  if (raw?.peersFrom === undefined) return { read: fileSource };
  if (raw.peersFrom !== 'kubernetes') throw new ConfigError(`peersFrom ${JSON.stringify(raw.peersFrom)}: must be "kubernetes" (or absent, with peers in the file)`);
  if (raw.peers !== undefined) throw new ConfigError('peers: give either peers or "peersFrom": "kubernetes", not both');
  const saDir = typeof raw.serviceAccountDir === 'string' ? raw.serviceAccountDir : DEFAULT_SA_DIR;
  const kube = new NodeWatch(saDir, log);
  await kube.start();
  // Rebuilt only when the file or a Node object changed (the watch bumps the generation), not on every poll.
  let last = { file: '', generation: -1, text: '' };
  const read = () => {
    const file = fileSource();
    if (file === last.file && kube.generation === last.generation) return last.text;
    const { peersFrom: _p, serviceAccountDir: _s, ...settings } = JSON.parse(file);
    last = { file, generation: kube.generation, text: JSON.stringify({ ...settings, peers: kube.peers() }) };
    return last.text;
  };
  return { read, kube };
}

/** What the last full pass left, kept per peer, so that a change of a few peers costs only their work. */
interface Synced { table: PeerTable; plans: Map<string, PeerPlan>; vxlanIndex?: number; failures: Map<string, string> }

export async function runAgent(o: RunOptions): Promise<number> {
  let source: Awaited<ReturnType<typeof openSource>>;
  try {
    source = await openSource(o);
  } catch (err) {
    throw new RunnerError(`invalid peers file ${o.config}: ${(err as Error).message}`);
  }
  const head = (cfg: AgentConfig): StatusHead => ({ node: cfg.node, backend: cfg.backend, pid: process.pid, config: o.config });
  const rows = new StatusRows();
  let st: StatusHead | undefined;
  let current: { text: string; cfg: AgentConfig } | undefined;
  let synced: Synced | undefined;
  let lastFailures = '';

  const record = (cfg: AgentConfig, changes: readonly string[], pass: 'full' | 'delta', started: number, error?: string) => {
    const at = new Date().toISOString();
    for (const c of changes) log(c);
    const list = rows.list(cfg);
    st = { ...head(cfg), lastSync: { at, changes: [...changes], ...(error ? { error } : {}), pass, ms: Math.round((performance.now() - started) * 10) / 10 }, lastChange: changes.length ? at : st?.lastChange };
    writeStatus(o.stateDir, st, list);
  };

  /** A full pass (reads the kernel); a ConfigError (thrown before any change) propagates and leaves the status file alone. */
  const fullPass = async (cfg: AgentConfig, doc: Record<string, unknown>, started = performance.now()): Promise<void> => {
    synced = undefined;
    try {
      const r = await syncOnce(cfg);
      synced = { table: new PeerTable(cfg, doc, o.node), plans: r.peers, vxlanIndex: r.vxlanIndex, failures: new Map(r.failures) };
      const error = r.failures.size ? [...r.failures].map(([peer, why]) => `${peer || 'cleanup'}: ${why}`).join('; ') : undefined;
      if (error && error !== lastFailures) log(`not synced: ${error}`);
      lastFailures = error ?? '';
      rows.reset(cfg, r.peers, undefined, r.failures);
      record(cfg, r.changes, 'full', started, error);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      const msg = (err as Error).message;
      log(`sync failed: ${msg}`);
      rows.reset(cfg, undefined, msg);
      st = { ...head(cfg), lastSync: { at: new Date().toISOString(), changes: [], error: msg, pass: 'full' }, lastChange: st?.lastChange };
      writeStatus(o.stateDir, st, rows.list(cfg));
    }
  };

  /** The peers that changed since the last pass, alone; undefined when only a full pass can apply the document. */
  const deltaPass = async (s: Synced, doc: Record<string, unknown>, started: number): Promise<AgentConfig | undefined> => {
    const d = s.table.update(doc, o.node);
    if (!d) return undefined;
    if (!d.changes.length) return record(d.cfg, [], 'delta', started, st?.lastSync?.error), d.cfg;
    const p = planDelta(d.cfg, d.changes, s.plans, s.vxlanIndex);
    try {
      const changes = await syncDelta(p, s.vxlanIndex);
      for (const [name, plan] of p.plans) {
        if (plan) s.plans.set(name, plan);
        else s.plans.delete(name);
        s.failures.delete(name);
      }
      for (const c of d.changes) {
        if (c.after) rows.set(d.cfg, c.after, s.plans);
        else rows.delete(c.name);
      }
      record(d.cfg, changes, 'delta', started, s.failures.size ? st?.lastSync?.error : undefined);
    } catch (err) {
      log(`${(err as Error).message}; a full pass follows`);
      await fullPass(d.cfg, doc, started);
    }
    return d.cfg;
  };

  /** Applies the document `text`: as a delta when the last full pass allows it, else validated whole and fully synced. */
  const apply = async (text: string, full: boolean, started = performance.now()): Promise<AgentConfig> => {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      doc = undefined; // parseAgentConfig words the error
    }
    const isDoc = typeof doc === 'object' && doc !== null && !Array.isArray(doc);
    if (!full && synced && isDoc) {
      const cfg = await deltaPass(synced, doc as Record<string, unknown>, started);
      if (cfg) return cfg;
    }
    const cfg = parseAgentConfig(text, o.node);
    await fullPass(cfg, doc as Record<string, unknown>, started);
    return cfg;
  };

  // The first pass: a file that does not validate is fatal (nothing changed); with the Kubernetes source this node
  // may simply not have its pod CIDR yet, so the agent waits for the API to say more.
  try {
    const text = source.read();
    current = { text, cfg: await apply(text, true) };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    if (!source.kube || o.once) {
      source.kube?.stop();
      throw new RunnerError(`invalid peers file ${o.config}: ${err.message}`);
    }
    log(`waiting for a usable config: ${err.message}`);
  }
  if (o.once) {
    source.kube?.stop();
    return st?.lastSync?.error ? 1 : 0;
  }

  let stop = false;
  const onSignal = () => { stop = true; };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  log(`node ${o.node ?? current?.cfg.node ?? '?'}, watching ${source.kube ? 'Node objects and ' : ''}${o.config}`);
  let lastSync = Date.now();
  let lastError = '';
  let lastText = current?.text;
  while (!stop) {
    await sleep(POLL_MS);
    const readAt = performance.now();
    let text: string;
    try {
      text = source.read();
    } catch (err) {
      const msg = `${(err as Error).message}; keeping the last good config`;
      if (msg !== lastError) log(`${o.config}: ${msg}`);
      lastError = msg;
      continue;
    }
    // A pass that failed is retried after a second, and the kernel re-read in a full pass every RESYNC_MS; a change
    // in between is a delta pass.
    const due = Date.now() - lastSync >= (st?.lastSync?.error ? 1000 : RESYNC_MS);
    if (text === lastText && !(due && current)) continue;
    lastText = text;
    if (due) lastSync = Date.now();
    try {
      current = { text, cfg: await apply(text, due, readAt) };
      lastError = '';
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const msg = `invalid peers file ${o.config}: ${err.message}; keeping the last good config`;
      if (msg !== lastError) log(msg);
      lastError = msg;
      if (st && current) writeStatus(o.stateDir, (st = { ...st, configError: err.message }), rows.list(current.cfg));
    }
  }
  source.kube?.stop();
  log('stopped (kernel state left in place; a restart converges without changes)');
  return 0;
}
