// Host side of the vm tier: which accelerator, the libvirt daemons the tier starts and stops, what libvirt holds.

import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** KVM only where the CPU has real VT-x/AMD-V: these machines' /dev/kvm is PVM, which hangs a stock Debian kernel. */
export function vmChoice(env = process.env): { driver: 'kvm' | 'qemu'; suite: 'all' | 'plugins' } {
  const forced = env.TSCNI_VAGRANT_DRIVER;
  const hw = existsSync('/dev/kvm') && /^flags\s*:.*\b(vmx|svm)\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
  const driver = forced === 'kvm' || forced === 'qemu' ? forced : hw ? 'kvm' : 'qemu';
  const suite = env.TSCNI_VM_SUITE === 'all' || env.TSCNI_VM_SUITE === 'plugins' ? env.TSCNI_VM_SUITE
    : driver === 'kvm' ? 'all' : 'plugins';
  return { driver, suite };
}

/** Runs argv with its output appended to `log`; never rejects. */
export function runLogged(file: string, args: string[], o: { cwd: string; env: NodeJS.ProcessEnv; log: string }):
  Promise<{ code: number; seconds: number }> {
  const t0 = Date.now();
  appendFileSync(o.log, `\n$ ${file} ${args.join(' ')}\n`);
  return new Promise((resolve) => {
    const p = spawn(file, args, { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const write = (b: Buffer) => appendFileSync(o.log, b);
    p.stdout.on('data', write);
    p.stderr.on('data', write);
    const done = (code: number) => resolve({ code, seconds: Math.round((Date.now() - t0) / 1000) });
    p.on('error', (e) => { appendFileSync(o.log, `${e.message}\n`); done(127); });
    p.on('close', (code) => done(code ?? 128));
  });
}

function virsh(...args: string[]): string[] {
  const r = spawnSync('virsh', ['-q', '-c', 'qemu:///system', ...args], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n').map((l) => l.trim()).filter(Boolean) : [];
}

export async function libvirtObjects(): Promise<{ domains: string[]; networks: string[]; volumes: string[] }> {
  const volumes = virsh('pool-list', '--all', '--name').flatMap((pool) =>
    virsh('vol-list', pool).map((l) => `${pool}/${l.split(/\s+/)[0]}`)).sort();
  return { domains: virsh('list', '--all', '--name'), networks: virsh('net-list', '--all', '--name'), volumes };
}

const pidAlive = (file: string) => {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return pid > 0 && existsSync(`/proc/${pid}`) && !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch { return false; }
};

// Absolute: node_modules/.bin has ava's @vercel/nft under the same name.
const NFT = '/usr/sbin/nft';
const nftTables = () => (spawnSync(NFT, ['list', 'tables'], { encoding: 'utf8' }).stdout ?? '')
  .split('\n').filter((l) => l.startsWith('table ')).map((l) => l.slice(6));

/**
 * libvirt's network rules go with its network, but the LIBVIRT_* chains it made (and the base chains' jumps to them)
 * stay behind in the iptables-nft tables. Drop them, then the tables that appeared during the run and are now empty.
 */
function dropLibvirtFirewall(tablesBefore: string[]): void {
  const ruleset = JSON.parse(spawnSync(NFT, ['-j', 'list', 'ruleset'], { encoding: 'utf8' }).stdout || '{"nftables":[]}');
  const items: any[] = ruleset.nftables;
  const isLibvirt = (chain: string) => chain.startsWith('LIBVIRT_');
  const cmds: any[] = [];
  for (const { rule } of items.filter((x) => x.rule)) {
    if (rule.expr.some((e: any) => isLibvirt(e.jump?.target ?? e.goto?.target ?? ''))) {
      cmds.push({ delete: { rule: { family: rule.family, table: rule.table, chain: rule.chain, handle: rule.handle } } });
    }
  }
  for (const { chain } of items.filter((x) => x.chain && isLibvirt(x.chain.name))) {
    cmds.push({ delete: { chain: { family: chain.family, table: chain.table, name: chain.name } } });
  }
  if (cmds.length) {
    // A file, not stdin: nft opens /dev/stdin, which fails on the socket Node gives a child as its stdin.
    const file = join(tmpdir(), `tscni-vm-nft-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ nftables: cmds }));
    const r = spawnSync(NFT, ['-j', '-f', file], { encoding: 'utf8' });
    rmSync(file, { force: true });
    if (r.status !== 0) throw new Error(`dropping libvirt's chains failed: ${r.stderr}`);
  }
  for (const table of nftTables().filter((x) => !tablesBefore.includes(x))) {
    const [family, name] = table.split(' ');
    const t = JSON.parse(spawnSync(NFT, ['-j', 'list', 'table', family, name], { encoding: 'utf8' }).stdout || '{"nftables":[]}');
    const busy = t.nftables.some((x: any) => x.rule || x.set || x.map || (x.chain && !x.chain.hook));
    if (!busy) spawnSync(NFT, ['delete', 'table', family, name]);
  }
}

const DAEMONS = [['virtlogd', '/run/virtlogd.pid'], ['libvirtd', '/run/libvirtd.pid']] as const;

export interface HostHandle { started: string[]; tables: string[]; stop(): Promise<void> }

export const hostLibvirt = {
  /** Starts virtlogd and libvirtd unless libvirt already answers (a systemd host runs them itself). */
  async start(): Promise<HostHandle> {
    const tables = nftTables();
    const started: string[] = [];
    if (spawnSync('virsh', ['-c', 'qemu:///system', 'version'], { stdio: 'ignore' }).status !== 0) {
      for (const [daemon, pidfile] of DAEMONS) {
        if (pidAlive(pidfile)) continue;
        const r = spawnSync(daemon, ['-d'], { stdio: 'inherit' });
        if (r.status !== 0) throw new Error(`${daemon} -d failed (${r.status})`);
        started.push(daemon);
      }
      for (let i = 0; i < 50 && spawnSync('virsh', ['-c', 'qemu:///system', 'version'], { stdio: 'ignore' }).status !== 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return {
      started, tables,
      async stop() {
        for (const [daemon, pidfile] of [...DAEMONS].reverse()) {
          if (!started.includes(daemon) || !pidAlive(pidfile)) continue;
          process.kill(Number(readFileSync(pidfile, 'utf8').trim()), 'SIGTERM');
          for (let i = 0; i < 100 && pidAlive(pidfile); i++) await new Promise((r) => setTimeout(r, 100));
        }
        if (started.includes('libvirtd')) dropLibvirtFirewall(tables);
      },
    };
  },

  /** vagrant-libvirt keeps the box's base volume for the next `up`; the tier leaves nothing, so it goes too. */
  async removeBaseVolumes(before: string[]): Promise<void> {
    for (const v of (await libvirtObjects()).volumes.filter((x) => !before.includes(x))) {
      const [pool, name] = v.split('/');
      virsh('vol-delete', '--pool', pool, name);
    }
  },

  async leftovers(host: HostHandle): Promise<string[]> {
    const left: string[] = [];
    for (const [daemon, pidfile] of DAEMONS) if (host.started.includes(daemon) && pidAlive(pidfile)) left.push(daemon);
    for (const table of nftTables()) if (!host.tables.includes(table)) left.push(`nft table ${table}`);
    const procs = spawnSync('ps', ['-eo', 'args='], { encoding: 'utf8' }).stdout ?? '';
    for (const l of procs.split('\n')) if (/qemu-system|dnsmasq.*tscni-vagrant/.test(l)) left.push(l.trim());
    return left;
  },
};
