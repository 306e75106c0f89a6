// `tscni agent`: the node agent. This folder (lib/agent/) owns multi-node pod networking: the peers file and its
// validation (config.ts), the wanted kernel state as data (plan.ts: host-gw routes, or flannel-style VXLAN device,
// FDB, neighbours and onlink routes), the pure diff against the kernel (diff.ts), one reconcile pass (sync.ts, through
// lib/kernel/overlay.ts and lib/nft/cluster-cidrs.ts), the per-change path (peer-table.ts validates only the peers
// that changed, delta.ts plans only them), the watch loop (run.ts) and the status file (status.ts).
// Ownership: routes with rtm_protocol 126; every permanent FDB/neighbour entry on tscni.vxlan; nft elements in
// inet tscni_bridge nomasq4/nomasq6 commented `tscni-agent`. Nothing else on the host is touched.

import { parseArgs } from '../runner/cli/args/argv.ts';
import { RunnerError, UsageError, Exit } from '../runner/cli/errors.ts';
import { DEFAULT_STATE_DIR, readStatus, renderStatus } from './status.ts';

export const AGENT_HELP = `Usage: tscni agent --config FILE [--node NAME] [--state-dir DIR] [--once]
       tscni agent status [--json] [--state-dir DIR]

Keeps this node's routes (host-gw) or VXLAN device, FDB, neighbour entries and routes (vxlan) in step with the
peers file, and exempts the cluster's pod CIDRs from the bridge's masquerade. The file is re-read every 200 ms.
  --config FILE      peers file: {"node", "backend": "host-gw"|"vxlan", "vxlan": {vni, port, device, mtu},
                     "peers": [{"name", "address", "podCIDRs": [...]}]} (this node is one of the peers),
                     or "peersFrom": "kubernetes" instead of "peers" (list+watch Node objects with the
                     pod's service account; "serviceAccountDir" overrides its mount)
  --node NAME        this node's name (overrides the file's "node")
  --state-dir DIR    where status.json is written (default ${DEFAULT_STATE_DIR})
  --once             sync once and exit
`;

type Out = (s: string) => void;

export async function agentCommand(argv: string[], out: Out): Promise<number> {
  if (argv[0] === 'status') {
    const a = parseArgs(argv.slice(1), { bools: ['json'], values: ['state-dir'] }, 'agent status');
    if (a.flags.help) return out(AGENT_HELP), Exit.Ok;
    if (a.positionals.length) throw new UsageError(`tscni agent status takes no arguments (got ${JSON.stringify(a.positionals[0])})`);
    const dir = (a.flags['state-dir'] as string | undefined) ?? DEFAULT_STATE_DIR;
    const s = readStatus(dir);
    if (!s) return process.stderr.write(`tscni: no agent status in ${dir} (is tscni agent running?)\n`), Exit.NotFound;
    out(a.flags.json ? JSON.stringify(s, null, 2) + '\n' : renderStatus(s));
    return Exit.Ok;
  }
  const a = parseArgs(argv[0] === 'run' ? argv.slice(1) : argv, { bools: ['once'], values: ['config', 'node', 'state-dir'] }, 'agent');
  const str = (k: string) => a.flags[k] as string | undefined;
  if (a.flags.help) return out(AGENT_HELP), Exit.Ok;
  if (a.positionals.length) throw new UsageError(`unknown argument ${JSON.stringify(a.positionals[0])}: see tscni agent --help`);
  const config = str('config');
  if (!config) throw new UsageError('tscni agent needs --config FILE (see tscni agent --help)');
  if (process.getuid?.() !== 0) throw new RunnerError('tscni agent needs root: it writes routes, links and nftables');
  const { runAgent } = await import('./run.ts');
  return runAgent({ config, node: str('node'), stateDir: str('state-dir') ?? DEFAULT_STATE_DIR, once: a.flags.once === true });
}
