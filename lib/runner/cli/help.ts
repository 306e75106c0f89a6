// Every help text of the tscni CLI, in one place: the overview (`tscni --help`) and each verb's `--help`.

import { DEFAULT_NETWORK } from '../networks.ts';

export const OVERVIEW = `Usage: tscni COMMAND [ARGS]

Network (cnitool-compatible, libcni semantics):
  add|check|del|status|gc <network> <netns-path>   run a network list on a netns (see tscni add --help)

Containers (runc + tscni's CNI plugins):
  run [-d] [-p PORTS]... IMAGE [CMD...]   create and start a container
  ps [-a] [--json]                         list containers
  inspect NAME                             low-level details (NetworkSettings like docker inspect)
  logs [-f] [-t] NAME                      the container's output
  exec [-it] NAME CMD...                   run a command inside a running container
  stop [-t SECS] NAME...                   stop (records the exit code, releases the network)
  start NAME...                            start a stopped container again
  rm [-f] NAME...                          remove containers
  port NAME [PORT[/PROTO]]                 published ports (docker port)
  explain NAME PORT                        the path a packet to a published port takes

Images:
  images [--json]   rmi NAME   load FILE   image build-busybox

Networks:
  network ls|inspect|create|rm|connect|disconnect

Installation (for other runtimes: containerd, podman, kubelet):
  install|uninstall [options]              put the plugins and a network config in place (see tscni install --help)

Every command takes --help. Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 conflict, 125 run failed.
Environment: NETCONFPATH, CNI_PATH, TSCNI_STATE_DIR, TSCNI_CACHE_DIR, TSCNI_RUNTIME (see README).`;

export const HELP: Record<string, string> = {
  run: `Usage: tscni run [OPTIONS] IMAGE [COMMAND [ARG...]]

Creates a container on a network (a netns, the network's CNI chain ADDed) and runs it with runc.
Options:
  -d, --detach              run in the background and print the container id
      --name NAME           container name (default: a generated one)
  -p, --publish SPEC        [hostIP:]hostPort[-end]:containerPort[-end][/tcp|udp|sctp] (repeatable); a missing host
                            port (-p 80, -p 127.0.0.1::80) or a host range for one port (-p 8000-8010:80) is picked
                            from 32768-60999 (or that range): free in both port ledgers and bindable
  -P, --publish-all         publish every port the image EXPOSEs on a picked host port
      --network MODE        a network from NETCONFPATH (default: ${DEFAULT_NETWORK}), host (the host's netns: no
                            veth, no NAT, no -p), none (own netns, lo only) or container:NAME|ID (join its netns)
      --network-alias NAME  another name the network's resolver answers for this container (repeatable)
      --ip ADDR             ask the network's IPAM for this address
      --mac MAC             the container interface's MAC address
  -e, --env KEY=VALUE       environment variable (repeatable)
      --hostname NAME       hostname (default: the first 12 hex digits of the id)
      --memory SIZE         memory limit, e.g. 64m
      --cpus N              CPU limit, e.g. 0.5
      --pids-limit N        process limit
      --rm                  remove the container when it exits
      --runtime PATH        runc-compatible runtime (default: runc)
      --rootfs DIR          use DIR as the root filesystem instead of an image (IMAGE is then only a label)
      --dry-run             print each plugin's plan (tscni plugins' nft JSON and kernel steps); change nothing`,
  cnitool: `Usage: tscni add|check|del|status|gc [--dry-run] [--id ID] <network> <netns-path>

Runs a network configuration list on a network namespace, like cnitool (libcni).
Environment:
  NETCONFPATH   directory of .conflist/.conf/.json files (default /etc/cni/net.d)
  CNI_PATH      plugin directories, ':'-separated (default: tscni's own dist/bin, then /opt/cni/bin)
  CNI_IFNAME    interface name in the netns (default eth0)
  CNI_ARGS      K=V;K2=V2 passed to every plugin
  CAP_ARGS      JSON capability args, e.g. {"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]}
                (given as runtimeConfig only to plugins whose "capabilities" declare them)
  CNI_CONTAINERID  container id (default: cnitool's, "cnitool-" + 20 hex digits of sha512(netns path))
  TSCNI_CACHE_DIR  libcni cache root (default /var/lib/cni; results in <dir>/results)
Flags:
  --dry-run     tscni plugins print their plan (TSCNI_DRY_RUN=1); other plugins are described, not run
  --id ID       container id (overrides CNI_CONTAINERID)
gc DELs cached attachments of <network> whose netns is gone, then sends GC with the rest as
cni.dev/valid-attachments. status asks every plugin (spec 1.1.0).`,
  ps: 'Usage: tscni ps [-a|--all] [--json] [-q]\n\nLists running containers (-a: all, with exit codes).',
  inspect: 'Usage: tscni inspect NAME|ID...\n\nPrints JSON details: State, Config, HostConfig.PortBindings and NetworkSettings (IPAddress, Gateway, MacAddress, Ports).',
  logs: 'Usage: tscni logs [-f|--follow] [-t|--timestamps] [--tail N] NAME\n\nPrints the container\'s stdout/stderr (kept as JSON lines with timestamps).',
  stop: 'Usage: tscni stop [-t|--time SECS] NAME...\n\nSends SIGTERM, then SIGKILL after SECS (default 10); records the exit code and releases the network.',
  start: 'Usage: tscni start NAME...\n\nStarts stopped containers again (new netns, the network chain ADDed again).',
  rm: 'Usage: tscni rm [-f|--force] NAME...\n\nRemoves containers (-f: stop running ones first). Releases network, mounts and state.',
  exec: 'Usage: tscni exec [-i] [-t] [-e K=V]... [-w DIR] NAME CMD [ARG...]\n\nRuns a command in a running container (runc exec).',
  images: 'Usage: tscni images [--json] [-q]\n\nLists images.',
  rmi: 'Usage: tscni rmi IMAGE...\n\nRemoves images no container uses.',
  image: 'Usage: tscni image build-busybox | ls | rm IMAGE | load FILE\n\nbuild-busybox builds busybox:latest from Debian\'s busybox-static (no registry needed).',
  load: 'Usage: tscni load [-i|--input] FILE\n\nLoads an OCI image archive or a `docker save`/`podman save` archive.',
  network: 'Usage: tscni network ls [--json] | inspect NAME | create NAME --subnet CIDR [--gateway IP] [--bridge NAME] [--no-masquerade] [--internal] [-o icc=false] | rm NAME\n       tscni network connect|disconnect NETWORK CONTAINER\n\nNetworks are CNI conflists in NETCONFPATH; create writes bridge + host-local + portmap and refuses overlapping subnets.\nTheir containers resolve each other by name (a resolver on the gateway); networks are isolated from each other;\n--internal: no route out, no masquerade; -o icc=false: no traffic between containers of the network.\nconnect adds an interface (eth1, ...) through that network\'s chain (now if the container runs, and at every start); disconnect DELs it.',
  port: 'Usage: tscni port NAME [PRIVATE_PORT[/tcp|udp|sctp]]\n\nLists the published ports (80/tcp -> 0.0.0.0:32768), or the host side of one.',
  explain: 'Usage: tscni explain NAME PORT[/tcp|udp|sctp]\n\nShows the path a packet to a published port takes: the nft map entry, the address, the veth.',
};

/** Prints the verb's help when `--help`/`-h` was given; says whether it did. */
export function printHelpIfAsked(verb: string, p: { flags: Record<string, unknown> }, out: (s: string) => void): boolean {
  if (p.flags.help !== true) return false;
  out(HELP[verb] + '\n');
  return true;
}
