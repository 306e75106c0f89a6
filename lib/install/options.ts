// Parses `tscni install` / `tscni uninstall` argv into a frozen, fully-defaulted options value (pure).

import { isAbsolute, normalize } from 'node:path';

export const PLUGINS = ['loopback', 'bridge', 'host-local', 'portmap'] as const;
// Conflist versions a runtime may ask for; 0.1.0/0.2.0 cannot express a plugin chain.
const CNI_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];

export interface InstallOptions {
  binDir: string;
  confDir: string;
  prefix: string;
  /** Where the host's `/` is mounted (a DaemonSet's hostPath, a package build root); paths inside files stay host paths. */
  root: string;
  /** Checkout that holds dist/bin, node_modules and conf (defaults to the one this code runs from). */
  source?: string;
  conflist?: string;
  noConflist: boolean;
  plugins: readonly string[];
  podCidrs: readonly string[];
  podCidrFromNode?: string;
  /** Rewrites the conflist's cniVersion (runtimes built on libcni 1.1, e.g. containerd 1.6 and podman 4, stop at 1.0.0). */
  cniVersion?: string;
  serviceAccountDir: string;
  replace: boolean;
  help: boolean;
}

export interface UninstallOptions {
  prefix: string;
  root: string;
  force: boolean;
  help: boolean;
}

export class UsageError extends Error {}

/** Where a verb writes its messages (stdout for results, stderr for diagnostics). */
export interface Io { out(s: string): void; err(s: string): void }

export const processIo: Io = { out: (s) => void process.stdout.write(s), err: (s) => void process.stderr.write(s) };

export const INSTALL_USAGE = `usage: tscni install [--bin-dir DIR] [--conf-dir DIR] [--prefix DIR] [--root DIR]
                     [--conflist FILE | --no-conflist] [--cni-version V] [--pod-cidr CIDR]... [--pod-cidr-from-node NAME]
                     [--service-account-dir DIR] [--plugins a,b,...] [--replace] [--source DIR]
  Installs the CNI plugins (${PLUGINS.join(', ')}) with their own Node runtime under --prefix (default /opt/tscni),
  links them into --bin-dir (default /opt/cni/bin) and writes the conflist into --conf-dir (default /etc/cni/net.d).
  Everything written is recorded in PREFIX/manifest.json; \`tscni uninstall\` removes exactly that.
  --pod-cidr sets the host-local ranges of the conflist (repeat it for dual stack); --pod-cidr-from-node reads
  them from the Kubernetes API (in-cluster service account). --cni-version rewrites the conflist's cniVersion
  (containerd 1.6 and podman 4.x accept results up to 1.0.0). --replace backs up existing files it would overwrite
  (uninstall restores them); without it an existing foreign file is an error. --root DIR writes under DIR.
`;

export const UNINSTALL_USAGE = `usage: tscni uninstall [--prefix DIR] [--root DIR] [--force]
  Removes exactly what \`tscni install\` recorded in PREFIX/manifest.json and restores the files it replaced.
  A recorded file that was changed since is kept (and reported) unless --force.
`;

function takeValue(argv: readonly string[], i: number, flag: string): string {
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
  return v;
}

function absolutePath(flag: string, v: string): string {
  if (!isAbsolute(v)) throw new UsageError(`${flag} ${JSON.stringify(v)}: must be an absolute path`);
  if (v.includes('\0') || v.includes('\n')) throw new UsageError(`${flag} ${JSON.stringify(v)}: contains a control character`);
  return normalize(v).replace(/(.)\/$/, '$1');
}

function splitFlag(arg: string): [string, string | undefined] {
  const eq = arg.indexOf('=');
  return arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
}

export function parseInstallArgs(argv: readonly string[]): InstallOptions {
  const o = {
    binDir: '/opt/cni/bin', confDir: '/etc/cni/net.d', prefix: '/opt/tscni', root: '/', source: undefined as string | undefined,
    conflist: undefined as string | undefined, noConflist: false, plugins: [...PLUGINS] as string[], podCidrs: [] as string[],
    podCidrFromNode: undefined as string | undefined, cniVersion: undefined as string | undefined, serviceAccountDir: '/var/run/secrets/kubernetes.io/serviceaccount',
    replace: false, help: false,
  };
  const args = argv.flatMap((a) => { const [f, v] = splitFlag(a); return v === undefined ? [f] : [f, v]; });
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => takeValue(args, i++, a);
    switch (a) {
      case '--bin-dir': o.binDir = absolutePath(a, value()); break;
      case '--conf-dir': o.confDir = absolutePath(a, value()); break;
      case '--prefix': o.prefix = absolutePath(a, value()); break;
      case '--root': o.root = absolutePath(a, value()); break;
      case '--source': o.source = absolutePath(a, value()); break;
      case '--service-account-dir': o.serviceAccountDir = absolutePath(a, value()); break;
      case '--conflist': o.conflist = absolutePath(a, value()); break;
      case '--no-conflist': o.noConflist = true; break;
      case '--pod-cidr': o.podCidrs.push(value()); break;
      case '--pod-cidr-from-node': {
        const n = value();
        if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(n)) throw new UsageError(`--pod-cidr-from-node ${JSON.stringify(n)}: not a Kubernetes node name`);
        o.podCidrFromNode = n;
        break;
      }
      case '--plugins': {
        const list = value().split(',').filter(Boolean);
        for (const p of list) if (!(PLUGINS as readonly string[]).includes(p)) throw new UsageError(`--plugins: unknown plugin ${JSON.stringify(p)} (known: ${PLUGINS.join(', ')})`);
        if (!list.length) throw new UsageError('--plugins: empty list');
        o.plugins = list;
        break;
      }
      case '--cni-version': {
        const v = value();
        if (!CNI_VERSIONS.includes(v)) throw new UsageError(`--cni-version ${JSON.stringify(v)}: not one of ${CNI_VERSIONS.join(', ')}`);
        o.cniVersion = v;
        break;
      }
      case '--replace': o.replace = true; break;
      case '-h': case '--help': o.help = true; break;
      default: throw new UsageError(`unknown argument ${JSON.stringify(a)}`);
    }
  }
  if (o.noConflist && o.conflist) throw new UsageError('--conflist and --no-conflist exclude each other');
  if (o.noConflist && (o.podCidrs.length || o.podCidrFromNode || o.cniVersion)) throw new UsageError('--pod-cidr and --cni-version need a conflist to write');
  if (o.podCidrs.length && o.podCidrFromNode) throw new UsageError('--pod-cidr and --pod-cidr-from-node exclude each other');
  return Object.freeze({ ...o, plugins: Object.freeze(o.plugins), podCidrs: Object.freeze(o.podCidrs) });
}

export function parseUninstallArgs(argv: readonly string[]): UninstallOptions {
  const o = { prefix: '/opt/tscni', root: '/', force: false, help: false };
  const args = argv.flatMap((a) => { const [f, v] = splitFlag(a); return v === undefined ? [f] : [f, v]; });
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    switch (a) {
      case '--prefix': o.prefix = absolutePath(a, takeValue(args, i++, a)); break;
      case '--root': o.root = absolutePath(a, takeValue(args, i++, a)); break;
      case '--force': o.force = true; break;
      case '-h': case '--help': o.help = true; break;
      default: throw new UsageError(`unknown argument ${JSON.stringify(a)}`);
    }
  }
  return Object.freeze(o);
}
