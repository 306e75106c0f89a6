// The Kubernetes manifest for tscni as data (RBAC + the agent's ConfigMap + a DaemonSet whose init container installs
// the plugins on each node and writes the conflist with that node's pod CIDR, and whose container runs `tscni agent`
// to route the pod CIDRs between nodes), and its YAML. `node conf/kubernetes/manifest.ts` prints tscni.yaml; the e2e
// tests run the init container's and the agent container's commands exactly as written here.

export const IMAGE = 'localhost/tscni-installer:0.1.0';
export const SRC = '/opt/tscni-src';
export const HOST = '/host';

/** hostPath → where the init container sees it (under HOST, so `tscni install --root /host` writes host paths). */
export const HOST_DIRS: Record<string, string> = {
  'cni-bin': '/opt/cni/bin',
  'cni-conf': '/etc/cni/net.d',
  'tscni-prefix': '/opt/tscni',
};

export const INSTALL_COMMAND = [
  `${SRC}/node_modules/bun/bin/bun.exe`, `${SRC}/lib/install/main.ts`, 'install',
  '--root', HOST,
  '--conflist', `${SRC}/conf/kubernetes/10-tscni.conflist`,
  '--pod-cidr-from-node', '$(NODE_NAME)',
  // Runtimes on libcni 1.1 (containerd 1.6, podman 4.3: verified) accept results up to CNI 1.0.0.
  '--cni-version', '1.0.0',
  // kubeadm nodes ship the reference plugins under the same names: back them up, uninstall restores them.
  '--replace',
];

/** The agent container: its config (a ConfigMap), its status file (a hostPath, so `tscni agent status` works on the node). */
export const AGENT_CONFIG_DIR = '/etc/tscni-agent';
export const AGENT_STATE_DIR = '/run/tscni/agent';
/** Peers from the API (Node objects, watched); VXLAN works whether or not the nodes share an L2 segment. */
export const AGENT_CONFIG = { backend: 'vxlan', vxlan: { vni: 1, port: 8472 }, peersFrom: 'kubernetes' };
export const AGENT_COMMAND = [
  `${SRC}/node_modules/bun/bin/bun.exe`, `${SRC}/dist/bin/tscni`, 'agent',
  '--config', `${AGENT_CONFIG_DIR}/agent.json`, '--node', '$(NODE_NAME)', '--state-dir', AGENT_STATE_DIR,
];
/** Routes, links, neighbour/FDB entries and nftables need CAP_NET_ADMIN in the host's netns (hostNetwork), nothing else. */
export const AGENT_SECURITY = { runAsUser: 0, capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] } };

const nodeNameEnv = [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }];

const meta = (name: string, namespaced = true) => ({ name, ...(namespaced ? { namespace: 'kube-system' } : {}), labels: { app: 'tscni' } });

export function manifest(): object[] {
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('tscni') },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: meta('tscni', false),
      // get: the installer reads its node's pod CIDR; list + watch: the agent follows every node's.
      rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: meta('tscni', false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'tscni' },
      subjects: [{ kind: 'ServiceAccount', name: 'tscni', namespace: 'kube-system' }],
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('tscni-agent'), data: { 'agent.json': JSON.stringify(AGENT_CONFIG) } },
    {
      apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: meta('tscni-node'),
      spec: {
        selector: { matchLabels: { app: 'tscni' } },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
        template: {
          metadata: { labels: { app: 'tscni' } },
          spec: {
            serviceAccountName: 'tscni',
            hostNetwork: true,
            priorityClassName: 'system-node-critical',
            tolerations: [{ operator: 'Exists' }],
            nodeSelector: { 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' },
            initContainers: [{
              name: 'install-cni',
              image: IMAGE,
              command: INSTALL_COMMAND,
              env: nodeNameEnv,
              securityContext: { runAsUser: 0 },
              volumeMounts: Object.entries(HOST_DIRS).map(([name, path]) => ({ name, mountPath: `${HOST}${path}` })),
            }],
            containers: [{
              name: 'agent',
              image: IMAGE,
              command: AGENT_COMMAND,
              env: nodeNameEnv,
              securityContext: AGENT_SECURITY,
              resources: { requests: { cpu: '10m', memory: '64Mi' } },
              volumeMounts: [
                { name: 'agent-config', mountPath: AGENT_CONFIG_DIR, readOnly: true },
                { name: 'agent-state', mountPath: AGENT_STATE_DIR },
              ],
            }],
            volumes: [
              ...Object.entries(HOST_DIRS).map(([name, path]) => ({ name, hostPath: { path, type: 'DirectoryOrCreate' } })),
              { name: 'agent-config', configMap: { name: 'tscni-agent' } },
              { name: 'agent-state', hostPath: { path: AGENT_STATE_DIR, type: 'DirectoryOrCreate' } },
            ],
          },
        },
      },
    },
  ];
}

const plainKey = /^[A-Za-z_][A-Za-z0-9_./-]*$/;

function yamlValue(v: unknown, indent: string): string {
  if (Array.isArray(v)) {
    if (!v.length) return ' []';
    return '\n' + v.map((x) => `${indent}- ${yamlBlock(x, indent + '  ').trimStart()}`).join('\n');
  }
  if (v !== null && typeof v === 'object') {
    if (!Object.keys(v).length) return ' {}';
    return '\n' + yamlBlock(v, indent);
  }
  return ' ' + (typeof v === 'string' ? JSON.stringify(v) : String(v));
}

function yamlBlock(v: unknown, indent: string): string {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return indent + yamlValue(v, indent).trimStart();
  return Object.entries(v).map(([k, x]) => `${indent}${plainKey.test(k) ? k : JSON.stringify(k)}:${yamlValue(x, indent + '  ')}`).join('\n');
}

/** YAML for our own documents: block maps and lists, strings double-quoted (JSON syntax, valid YAML). */
export function toYaml(docs: object[]): string {
  return docs.map((d) => yamlBlock(d, '')).join('\n---\n') + '\n';
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write('# Generated by `node conf/kubernetes/manifest.ts > conf/kubernetes/tscni.yaml`; edit manifest.ts instead.\n' + toYaml(manifest()));
}
