// The agent's loop: validate the config, sync, then re-read it every 200 ms (a change is applied within a second)
// and re-sync every 10 s to repair drift. The config is the peers file, or with `"peersFrom": "kubernetes"` that
// file's settings plus the peers a list+watch of Node objects keeps (kube-nodes.ts). A config that stops
// validating changes nothing: the last good one stays in force and the error is logged and shown by the status.

import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { RunnerError } from '../runner/cli/errors.ts';
import { ConfigError, parseAgentConfig, type AgentConfig } from './config.ts';
import { DEFAULT_SA_DIR, NodeWatch } from './kube-nodes.ts';
import { peerRows, writeStatus, type AgentStatus } from './status.ts';
import { syncOnce } from './sync.ts';

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
  const read = () => {
    const { peersFrom: _p, serviceAccountDir: _s, ...settings } = JSON.parse(fileSource());
    return JSON.stringify({ ...settings, peers: kube.peers() });
  };
  return { read, kube };
}

export async function runAgent(o: RunOptions): Promise<number> {
  let source: Awaited<ReturnType<typeof openSource>>;
  try {
    source = await openSource(o);
  } catch (err) {
    throw new RunnerError(`invalid peers file ${o.config}: ${(err as Error).message}`);
  }
  const status = (cfg: AgentConfig): AgentStatus => ({ node: cfg.node, backend: cfg.backend, pid: process.pid, config: o.config, peers: peerRows(cfg, undefined) });
  let st: AgentStatus | undefined;
  let current: { text: string; cfg: AgentConfig } | undefined;
  let lastFailures = '';

  /** One pass; a ConfigError (thrown before any change) propagates and leaves the status file alone. */
  const pass = async (cfg: AgentConfig): Promise<void> => {
    try {
      const r = await syncOnce(cfg);
      const at = new Date().toISOString();
      for (const c of r.changes) log(c);
      const error = r.failures.size ? [...r.failures].map(([peer, why]) => `${peer || 'cleanup'}: ${why}`).join('; ') : undefined;
      if (error && error !== lastFailures) log(`not synced: ${error}`);
      lastFailures = error ?? '';
      st = {
        ...status(cfg), lastSync: { at, changes: [...r.changes], ...(error ? { error } : {}) },
        lastChange: r.changes.length ? at : st?.lastChange, peers: peerRows(cfg, r.plan, undefined, r.failures),
      };
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      const msg = (err as Error).message;
      log(`sync failed: ${msg}`);
      st = { ...status(cfg), lastSync: { at: new Date().toISOString(), changes: [], error: msg }, lastChange: st?.lastChange, peers: peerRows(cfg, undefined, msg) };
    }
    writeStatus(o.stateDir, st);
  };

  // The first pass: a file that does not validate is fatal (nothing changed); with the Kubernetes source this node
  // may simply not have its pod CIDR yet, so the agent waits for the API to say more.
  try {
    const text = source.read();
    const cfg = parseAgentConfig(text, o.node);
    await pass(cfg);
    current = { text, cfg };
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
    let text: string;
    try {
      text = source.read();
    } catch (err) {
      const msg = `${(err as Error).message}; keeping the last good config`;
      if (msg !== lastError) log(`${o.config}: ${msg}`);
      lastError = msg;
      continue;
    }
    // A pass that failed is retried after a second, a clean one re-checked every RESYNC_MS.
    const due = Date.now() - lastSync >= (st?.lastSync?.error ? 1000 : RESYNC_MS);
    if (text === lastText && !(due && current)) continue;
    lastSync = Date.now();
    lastText = text;
    try {
      const cfg = text === current?.text ? current.cfg : parseAgentConfig(text, o.node);
      await pass(cfg);
      current = { text, cfg };
      lastError = '';
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const msg = `invalid peers file ${o.config}: ${err.message}; keeping the last good config`;
      if (msg !== lastError) log(msg);
      lastError = msg;
      if (st) writeStatus(o.stateDir, (st = { ...st, configError: err.message }));
    }
  }
  source.kube?.stop();
  log('stopped (kernel state left in place; a restart converges without changes)');
  return 0;
}
