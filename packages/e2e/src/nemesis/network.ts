import type { SubnetLease } from './subnet-lease';
import { runSync } from './system-command';

/**
 * The hosts of a nemesis run, each a network namespace with one interface (`eth0`) on a
 * bridge in a hub namespace of their own: `coord` for the coordinator, `n1`..`n5` for the
 * nodes. The test process reaches them through one veth of its own, named after the
 * prefix, on the same bridge. Their addresses exist nowhere else, and no namespace has a
 * route beyond the /24, so nothing here can talk to the outside world.
 */
export const HOSTS = ['coord', 'n1', 'n2', 'n3', 'n4', 'n5'] as const;
export type Host = (typeof HOSTS)[number];

const HUB = 'hub';
const BRIDGE = 'br0';
/** The interface in each host namespace. */
const LINK = 'eth0';
/** The hub end of the test process's veth. */
const TEST_PORT = 'test';

function ip(...args: string[]): void {
  runSync('ip', args);
}

/** The network namespaces of a run. */
export class NamespaceNetwork {
  private constructor(readonly lease: SubnetLease) {}

  /** Builds the hub, the hosts and the test process's link (tearing it down if that fails). */
  static create(lease: SubnetLease): NamespaceNetwork {
    const network = new NamespaceNetwork(lease);
    try {
      network.build();
    } catch (err) {
      network.destroy();
      throw err;
    }
    return network;
  }

  /** The namespace of a host, e.g. `kvn1234-n1`. */
  namespace(host: Host | typeof HUB): string {
    return `${this.lease.prefix}-${host}`;
  }

  /** The address of a host: `coord` is .10, `nN` is .(10+N). */
  address(host: Host): string {
    return `${this.lease.subnet}.${10 + HOSTS.indexOf(host)}`;
  }

  /** The host an address belongs to. */
  hostOf(address: string): Host | undefined {
    return HOSTS.find((h) => this.address(h) === address);
  }

  /** The test process's address, on its own veth. */
  get testAddress(): string {
    return `${this.lease.subnet}.1`;
  }

  /** The command line that runs `command args` inside a host's namespace. */
  execArgs(host: Host, command: string, args: readonly string[]): string[] {
    return ['netns', 'exec', this.namespace(host), command, ...args];
  }

  private build(): void {
    const hub = this.namespace(HUB);
    ip('netns', 'add', hub);
    ip('-n', hub, 'link', 'set', 'lo', 'up');
    ip('-n', hub, 'link', 'add', BRIDGE, 'type', 'bridge');
    ip('-n', hub, 'link', 'set', BRIDGE, 'up');
    for (const host of HOSTS) {
      const ns = this.namespace(host);
      ip('netns', 'add', ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('link', 'add', LINK, 'netns', ns, 'type', 'veth', 'peer', 'name', host, 'netns', hub);
      ip('-n', hub, 'link', 'set', host, 'master', BRIDGE, 'up');
      ip('-n', ns, 'addr', 'add', `${this.address(host)}/24`, 'dev', LINK);
      ip('-n', ns, 'link', 'set', LINK, 'up');
    }
    const own = this.lease.prefix;
    ip('link', 'add', own, 'type', 'veth', 'peer', 'name', TEST_PORT, 'netns', hub);
    ip('-n', hub, 'link', 'set', TEST_PORT, 'master', BRIDGE, 'up');
    ip('addr', 'add', `${this.testAddress}/24`, 'dev', own);
    ip('link', 'set', own, 'up');
  }

  /** Removes the test process's link and every namespace of the run. */
  destroy(): void {
    removeNetwork(this.lease.prefix);
  }
}

function namespacesOf(prefix: string): string[] {
  return runSync('ip', ['netns', 'list'], { allowFailure: true })
    .stdout.split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(`${prefix}-`));
}

function pidsIn(namespace: string): number[] {
  return runSync('ip', ['netns', 'pids', namespace], { allowFailure: true })
    .stdout.split('\n')
    .filter((line) => /^\d+$/.test(line.trim()))
    .map(Number);
}

/** What is left of the network of runs with this prefix: processes in its namespaces, namespaces, the test link. */
export function leftovers(prefix: string): string[] {
  const namespaces = namespacesOf(prefix);
  const link = runSync('ip', ['link', 'show', 'dev', prefix], { allowFailure: true }).ok;
  return [
    ...namespaces.flatMap((n) => pidsIn(n).map((pid) => `process ${pid} in ${n}`)),
    ...namespaces.map((n) => `namespace ${n}`),
    ...(link ? [`link ${prefix}`] : []),
  ];
}

/**
 * Deletes the test link and the namespaces of a prefix (whatever exists of them),
 * SIGKILLing any process still in them first (one of a run killed before its teardown):
 * a namespace with a process in it would live on, unnamed.
 */
export function removeNetwork(prefix: string): void {
  runSync('ip', ['link', 'del', 'dev', prefix], { allowFailure: true });
  for (const namespace of namespacesOf(prefix)) {
    for (const pid of pidsIn(namespace)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone in the meantime.
      }
    }
    runSync('ip', ['netns', 'del', namespace], { allowFailure: true });
  }
}
