// The agent's loop: validate the peers file, sync, then re-read the file every 200 ms (a change is applied within a
// second) and re-sync every 10 s to repair drift. A file that stops validating changes nothing: the last good
// config stays in force and the error is logged and shown by `tscni agent status`.

import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { RunnerError } from '../runner/cli/errors.ts';
import { ConfigError, parseAgentConfig, type AgentConfig } from './config.ts';
import { peerRows, writeStatus, type AgentStatus } from './status.ts';
import { syncOnce } from './sync.ts';

export interface RunOptions { config: string; node?: string; stateDir: string; once: boolean }

const POLL_MS = 200;
const RESYNC_MS = 10_000;
const log = (line: string) => process.stderr.write(`tscni agent: ${line}\n`);

function load(path: string, node: string | undefined): { text: string; cfg: AgentConfig } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return { text, cfg: parseAgentConfig(text, node) };
}

export async function runAgent(o: RunOptions): Promise<number> {
  let current: { text: string; cfg: AgentConfig };
  try {
    current = load(o.config, o.node);
  } catch (err) {
    if (err instanceof ConfigError) throw new RunnerError(`invalid peers file ${o.config}: ${err.message}`);
    throw err;
  }
  const status = (cfg: AgentConfig): AgentStatus => ({ node: cfg.node, backend: cfg.backend, pid: process.pid, config: o.config, peers: peerRows(cfg, undefined) });
  let st = status(current.cfg);

  /** One pass; a ConfigError (thrown before any change) propagates and leaves the status file alone. */
  const pass = async (cfg: AgentConfig): Promise<void> => {
    const at = new Date().toISOString();
    try {
      const r = await syncOnce(cfg);
      for (const c of r.changes) log(c);
      st = { ...status(cfg), lastSync: { at, changes: [...r.changes] }, peers: peerRows(cfg, r.plan) };
    } catch (err) {
      if (err instanceof ConfigError) throw err; // refused before any change: the status keeps the last good pass
      const msg = (err as Error).message;
      log(`sync failed: ${msg}`);
      st = { ...status(cfg), lastSync: { at, changes: [], error: msg }, peers: peerRows(cfg, undefined, msg) };
    }
    writeStatus(o.stateDir, st);
  };

  try {
    await pass(current.cfg);
  } catch (err) {
    if (err instanceof ConfigError) throw new RunnerError(`invalid peers file ${o.config}: ${err.message}`);
    throw err;
  }
  if (o.once) return st.lastSync?.error ? 1 : 0;

  let stop = false;
  const onSignal = () => { stop = true; };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  log(`node ${current.cfg.node}, backend ${current.cfg.backend}, watching ${o.config}`);
  let lastSync = Date.now();
  let lastError = '';
  while (!stop) {
    await sleep(POLL_MS);
    let text: string | undefined;
    try {
      text = readFileSync(o.config, 'utf8');
    } catch (err) {
      const msg = `cannot read ${o.config}: ${(err as NodeJS.ErrnoException).code}; keeping the last good config`;
      if (msg !== lastError) log(msg);
      lastError = msg;
      continue;
    }
    const due = Date.now() - lastSync >= RESYNC_MS;
    if (text === current.text && !due) continue;
    lastSync = Date.now();
    try {
      const cfg = text === current.text ? current.cfg : parseAgentConfig(text, o.node);
      await pass(cfg);
      current = { text, cfg };
      lastError = '';
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const msg = `invalid peers file ${o.config}: ${err.message}; keeping the last good config`;
      if (msg !== lastError) log(msg);
      lastError = msg;
      current = { text, cfg: current.cfg };
      st = { ...st, configError: err.message };
      writeStatus(o.stateDir, st);
    }
  }
  log('stopped (kernel state left in place; a restart converges without changes)');
  return 0;
}
