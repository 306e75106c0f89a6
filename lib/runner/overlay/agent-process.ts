// The node agent of an overlay network, as the runner keeps it: one `tscni agent` per overlay network, started
// detached through lib/exec/process.ts, its files under <state>/overlay/<net>/ (peers.json it reads, status.json it
// writes, agent.pid, agent.log). Its pid counts only while /proc/<pid>/cmdline still names this peers file, so a pid
// reused after a reboot does not.

import { closeSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { start } from '../../exec/process.ts';
import { readStatus, type AgentStatus } from '../../agent/status.ts';
import { alive } from '../container/pid.ts';
import { writePidFile } from '../dns/manager.ts';
import { selfExecutable } from '../paths.ts';
import { RunnerError } from '../cli/errors.ts';

export interface AgentFiles { dir: string; peers: string; pid: string; log: string }

export function agentFiles(stateRoot: string, net: string): AgentFiles {
  const dir = join(stateRoot, 'overlay', net);
  return { dir, peers: join(dir, 'peers.json'), pid: join(dir, 'agent.pid'), log: join(dir, 'agent.log') };
}

/** The running agent of `net`, if any. */
export function agentPid(f: AgentFiles): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(f.pid, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!alive(pid)) return undefined;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes('agent') && argv[argv.indexOf('--config') + 1] === f.peers ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function agentStatus(f: AgentFiles): AgentStatus | undefined {
  return readStatus(f.dir);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const logTail = (f: AgentFiles) => {
  try {
    return readFileSync(f.log, 'utf8').trim().split('\n').slice(-3).join('; ');
  } catch {
    return '';
  }
};

/**
 * Starts the agent unless it runs, and waits (at most `waitMs`) for its first pass to be recorded in status.json.
 * An agent that exits first (a config the kernel cannot serve: its address on no link) is a RunnerError with its log.
 */
export async function ensureAgent(f: AgentFiles, waitMs = 10_000): Promise<number> {
  const running = agentPid(f);
  if (running) return running;
  mkdirSync(f.dir, { recursive: true, mode: 0o700 });
  rmSync(join(f.dir, 'status.json'), { force: true });
  const fd = openSync(f.log, 'a');
  let pid = 0;
  try {
    const child = await start(process.execPath, [selfExecutable(), 'agent', '--config', f.peers, '--state-dir', f.dir], { detached: true, stdio: ['ignore', fd, fd] });
    child.unref();
    pid = child.pid ?? 0;
  } finally {
    closeSync(fd);
  }
  writePidFile(f.pid, pid);
  for (const until = Date.now() + waitMs; Date.now() < until; await sleep(50)) {
    if (agentStatus(f)?.lastSync) return pid;
    if (!alive(pid)) break;
  }
  const why = logTail(f);
  await stopAgent(f);
  throw new RunnerError(`the overlay agent did not sync${why ? `: ${why}` : ''} (log ${f.log})`);
}

/** Stops the agent (TERM, then KILL after 3 s) and removes its pid file. */
export async function stopAgent(f: AgentFiles): Promise<void> {
  const pid = agentPid(f);
  if (pid) {
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 60 && alive(pid); i++) await sleep(50);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 20 && alive(pid); i++) await sleep(50);
  }
  rmSync(f.pid, { force: true });
}
