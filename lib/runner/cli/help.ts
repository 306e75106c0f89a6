// Every help text of the tscni CLI, in one place: the overview (`tscni --help`) and each verb's `--help`.

import { DEFAULT_NETWORK } from '../networks.ts';

export const OVERVIEW = `Usage: tscni COMMAND [ARGS]

Network (cnitool-compatible, libcni semantics):
  add|check|del|status|gc <network> <netns-path>   run a network list on a netns (see tscni add --help)

Containers (runc + tscni's CNI plugins):
  run [-d] [-p PORTS]... IMAGE [CMD...]   create and start a container
  create [-p PORTS]... IMAGE [CMD...]      create a container (run's flags) without starting it
  ps [-a] [--json]                         list containers
  inspect NAME                             low-level details (NetworkSettings like docker inspect)
  logs [-f] [-t] NAME                      the container's output
  exec [-it] NAME CMD...                   run a command inside a running container
  attach [--detach-keys K] NAME            a -t container's pty on this terminal, or another's output
  stop [-t SECS] NAME...                   stop (records the exit code, releases the network)
  start NAME...                            start a stopped container again
  rm [-f] NAME...                          remove containers
  port NAME [PORT[/PROTO]]                 published ports (docker port)
  explain NAME PORT                        the path a packet to a published port takes
  boot                                     after a reboot: restart containers run with --restart always

Images:
  pull [-q] [--platform OS/ARCH] REF       fetch an image from an OCI distribution registry
  login -u USER --password-stdin [REGISTRY]   logout [REGISTRY]
  images [--json]   rmi NAME   load FILE   image build-busybox|prune

Volumes:
  volume create|ls|inspect|rm              named volumes (run -v NAME:/dir)

Networks:
  network ls|inspect|create|rm|connect|disconnect

Installation (for other runtimes: containerd, podman, kubelet):
  install|uninstall [options]              put the plugins and a network config in place (see tscni install --help)
  agent --config FILE | agent status        the node agent: pod routes between nodes, host-gw or vxlan (see tscni agent --help)

Every command takes --help. Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 conflict, 125 run failed.
Environment: NETCONFPATH, CNI_PATH, TSCNI_STATE_DIR, TSCNI_CACHE_DIR, TSCNI_RUNTIME, TSCNI_INSECURE_REGISTRIES, TSCNI_INIT_PATH (see README).`;

export const HELP: Record<string, string> = {
  run: `Usage: tscni run [OPTIONS] IMAGE [COMMAND [ARG...]]

Creates a container on a network (a netns, the network's CNI chain ADDed) and runs it with runc.
Options:
  -d, --detach              run in the background and print the container id
  -i, --interactive         attach stdin (in the background, -d -i: keep it open)
  -t, --tty                 a pty kept by the monitor, on this terminal (-d: later, tscni attach); --restart only with -d
      --detach-keys KEYS    with -t: the keys that leave the container running (docker's spelling; ctrl-p,ctrl-q)
      --init                run tini (/usr/bin/tini-static, Debian's tini) as PID 1: forwards signals, reaps zombies
      --name NAME           container name (default: a generated one)
  -p, --publish SPEC        [hostIP:]hostPort[-end]:containerPort[-end][/tcp|udp|sctp] (repeatable); a missing host
                            port (-p 80, -p 127.0.0.1::80) or a host range for one port (-p 8000-8010:80) is picked
                            from 32768-60999 (or that range): free in both port ledgers and bindable; IPv6 host
                            IPs in brackets ([::]:8080:80, [::1]:8080:80: [::1] through a userland proxy)
  -P, --publish-all         publish every port the image EXPOSEs on a picked host port
      --network MODE        a network from NETCONFPATH (default: ${DEFAULT_NETWORK}), host (the host's netns: no
                            veth, no NAT, no -p), none (own netns, lo only) or container:NAME|ID (join its netns)
      --network-alias NAME  another name the network's resolver answers for this container (repeatable)
      --ip ADDR             ask the network's IPAM for this address
      --mac MAC             the container interface's MAC address
  -e, --env KEY=VALUE       environment variable (repeatable)
      --env-file FILE       KEY=VALUE lines (# comments; a bare KEY takes this shell's value) (repeatable)
  -w, --workdir DIR         working directory of the process
  -u, --user UID[:GID]      run as this numeric user (and group; default: the uid)
      --entrypoint CMD      replaces the image's entrypoint (and drops its default command); "" clears it
      --read-only           mount the rootfs read-only (combine with --tmpfs for scratch space)
      --cap-add CAP         add a capability (NET_ADMIN or CAP_NET_ADMIN, ALL) (repeatable)
      --cap-drop CAP        drop one of docker's default capabilities (ALL: every one) (repeatable)
  -l, --label KEY[=VALUE]   metadata shown by inspect (repeatable)
      --add-host HOST:IP    an extra /etc/hosts line (repeatable)
      --dns IP, --dns-search DOMAIN, --dns-option OPT
                            replace the host's nameservers, search domains, options in resolv.conf
      --hostname NAME       hostname (default: the first 12 hex digits of the id)
      --memory SIZE         memory limit, e.g. 64m
      --cpus N              CPU limit, e.g. 0.5
      --pids-limit N        process limit
  -v, --volume SPEC         HOSTDIR:DIR[:ro] (a missing HOSTDIR is created), NAME:DIR[:ro] (a named volume,
                            created on first use) or DIR (an anonymous volume) (repeatable)
      --mount SPEC          type=bind|volume|tmpfs,source=...,target=...[,readonly][,tmpfs-size=N][,tmpfs-mode=NNN]
                            (a missing bind source is refused) (repeatable)
      --tmpfs DIR[:OPTS]    a tmpfs at DIR (OPTS: size=64m,mode=1777,ro,...) (repeatable)
      --restart POLICY      no (default), always, on-failure[:N] (at most N restarts), unless-stopped; the
                            monitor runs the process again (back-off from 100 ms); tscni boot restarts after a reboot
      --rm                  remove the container when it exits
      --runtime PATH        runc-compatible runtime (default: runc)
      --rootfs DIR          use DIR as the root filesystem instead of an image (IMAGE is then only a label)
      --pull POLICY         missing (default: pull when not in the store), always, never
      --platform OS/ARCH    the platform to pull (default: this machine's, e.g. linux/amd64)
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
  create: 'Usage: tscni create [OPTIONS] IMAGE [COMMAND [ARG...]]\n\nCreates a container with run\'s options (see tscni run --help; not -d, -i, -t, --dry-run) and prints its id: the\nname and host ports are reserved, nothing runs (ps -a: Created). tscni start NAME starts it in the network mode it was\ncreated with; rm removes it.',
  ps: 'Usage: tscni ps [-a|--all] [--json] [-q]\n\nLists running containers (-a: all, with exit codes).',
  inspect: 'Usage: tscni inspect NAME|ID...\n\nPrints JSON details: State, Config, HostConfig.PortBindings and NetworkSettings (IPAddress, Gateway, MacAddress, Ports).',
  logs: 'Usage: tscni logs [-f|--follow] [-t|--timestamps] [--tail N] NAME\n\nPrints the container\'s stdout/stderr (kept as JSON lines with timestamps).',
  stop: 'Usage: tscni stop [-t|--time SECS] NAME...\n\nSends SIGTERM, then SIGKILL after SECS (default 10); records the exit code and releases the network.',
  start: 'Usage: tscni start NAME...\n\nStarts created or stopped containers (a new netns, the network chain ADDed, in the mode they were created with).',
  rm: 'Usage: tscni rm [-f|--force] [-v|--volumes] NAME...\n\nRemoves containers (-f: stop running ones first). Releases network, mounts and state.\n-v also removes the container\'s anonymous volumes; named volumes always stay (tscni volume rm).',
  boot: 'Usage: tscni boot\n\nAfter a reboot (run it from a boot unit): records containers whose monitor is gone as exited, releases what they\nheld, and starts those with --restart always (or unless-stopped, unless stopped by a user) with their name, ports and address.',
  volume: 'Usage: tscni volume create [NAME] | ls [-q] [--json] | inspect NAME... | rm NAME...\n\nNamed volumes live in $TSCNI_STATE_DIR/volumes/NAME/_data and outlive containers; rm refuses one a container uses.',
  exec: 'Usage: tscni exec [-i] [-t] [-e K=V]... [-w DIR] NAME CMD [ARG...]\n\nRuns a command in a running container (runc exec):\n-i attaches stdin (else /dev/null), -t makes a pty on this terminal. Exits with the command\'s code.',
  attach: 'Usage: tscni attach [--detach-keys KEYS] NAME\n\nConnects this terminal to a container run with -t: its output, what is typed (with -i), the window size.\nCtrl-P Ctrl-Q (or --detach-keys, docker\'s spelling: ctrl-a,x) detaches and leaves it running; otherwise\nattach exits with the process\'s exit code, also when its restart policy runs it again. A container run\nwithout -t: its output from now on, stdin passed to it (with -i), Ctrl-C (SIGINT) or SIGTERM passed to it.',
  images: 'Usage: tscni images [--json] [-q]\n\nLists images.',
  rmi: 'Usage: tscni rmi IMAGE...\n\nRemoves images no container uses.',
  image: 'Usage: tscni image build-busybox | ls | rm IMAGE | load FILE | pull REF | prune\n\nbuild-busybox builds busybox:latest from Debian\'s busybox-static (no registry needed).\nprune removes <none> images no container uses, layers no image names and what interrupted pulls left.',
  pull: `Usage: tscni pull [-q|--quiet] [--platform OS/ARCH[/VARIANT]] [REGISTRY/]REPO[:TAG|@DIGEST]

Fetches an image from an OCI distribution registry (docker.io when no registry is named). An image index or
manifest list is resolved for the platform (default: this machine's). Every blob is checked against its sha256
while it streams; layers are stored once per digest and shared between images. HTTPS, except for localhost,
127.0.0.0/8 and registries in TSCNI_INSECURE_REGISTRIES (comma-separated). Credentials: tscni login.`,
  login: `Usage: tscni login -u USER (--password-stdin | -p PASSWORD) [REGISTRY]

Checks the credentials against REGISTRY (default docker.io) and stores them, mode 0600, in
$TSCNI_STATE_DIR/auth.json (docker's config.json "auths" shape). Used as Basic auth, or to get Bearer tokens.`,
  logout: 'Usage: tscni logout [REGISTRY]\n\nForgets the stored credentials for REGISTRY (default docker.io).',
  load: 'Usage: tscni load [-i|--input] FILE\n\nLoads an OCI image archive or a `docker save`/`podman save` archive.',
  network: 'Usage: tscni network ls [--json] | inspect NAME | create NAME --subnet CIDR [--subnet CIDR6] [--ipv6] [--gateway IP]... [--bridge NAME] [--no-masquerade] [--internal] [-o icc=false] [--driver overlay ...] | rm NAME\n       tscni network connect [--alias NAME]... NETWORK CONTAINER | disconnect NETWORK CONTAINER\n\nNetworks are CNI conflists in NETCONFPATH; create writes bridge + host-local + portmap and refuses overlapping subnets;\na second --subnet of the other family makes it dual stack (each --gateway goes to the subnet of its family).\nTheir containers resolve each other by name (a resolver on the gateway); networks are isolated from each other;\n--internal: no route out, no masquerade; -o icc=false: no traffic between containers of the network.\nconnect adds an interface (eth1, ...) through that network\'s chain (now if the container runs, and at every start); --alias:\nmore names for the container on that network only; disconnect DELs the interface and its aliases go with it.\n\nOverlay (containers on several hosts, one subnet per host; one overlay network per host):\n  tscni network create --driver overlay --subnet THIS_HOST_CIDR --opt address=THIS_HOST_ADDR [--opt node=NAME]\n      --peer NAME=ADDR,CIDR... [--opt backend=vxlan|host-gw] [--opt vni=N] [--opt port=N] [--opt device=DEV] NAME\nwrites the network (no masquerade towards the peers\' CIDRs) and the peers file, and starts tscni agent for it;\nnetwork rm stops the agent and removes its routes and VXLAN device; tscni boot restarts it; inspect shows the peers.',
  port: 'Usage: tscni port NAME [PRIVATE_PORT[/tcp|udp|sctp]]\n\nLists the published ports (80/tcp -> 0.0.0.0:32768), or the host side of one.',
  explain: 'Usage: tscni explain NAME PORT[/tcp|udp|sctp]\n\nShows the path a packet to a published port takes: the nft map entry, the address, the veth.',
};

/** Prints the verb's help when `--help`/`-h` was given; says whether it did. */
export function printHelpIfAsked(verb: string, p: { flags: Record<string, unknown> }, out: (s: string) => void): boolean {
  if (p.flags.help !== true) return false;
  out(HELP[verb] + '\n');
  return true;
}
