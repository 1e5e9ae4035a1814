import { createServer, connect, type Server } from 'node:net';
import { ManagedProcess } from '../harness/managed-process';
import { faketimeEnv } from './faults/clock-skew';
import { applyPartition } from './firewall';
import { leaseFromEnv } from './global-setup';
import { HOSTS, leftovers, NamespaceNetwork, type Host } from './network';
import { namespacePlacement } from './namespace-placement';

/** A TCP connection from one host to another: `connected`, or what stopped it. */
function probe(network: NamespaceNetwork, from: Host, to: string): Promise<string> {
  const script = `const s=require('net').connect(${JSON.stringify({ host: to, port: 7000 })});s.setTimeout(700,()=>{console.log('timeout');process.exit()});s.on('connect',()=>{console.log('connected');process.exit()});s.on('error',e=>{console.log(e.code);process.exit()})`;
  const child = ManagedProcess.start({
    name: `probe ${from} -> ${to}`,
    command: 'ip',
    args: network.execArgs(from, process.execPath, ['-e', script]),
  });
  return child.waitForExit(10_000).then(() => child.output('stdout').trim());
}

/** A TCP server on port 7000 of a host's address, in its namespace, once it listens. */
async function listener(network: NamespaceNetwork, host: Host): Promise<ManagedProcess> {
  const server = ManagedProcess.start({
    name: `listener ${host}`,
    command: 'ip',
    args: network.execArgs(host, process.execPath, [
      '-e',
      `require('net').createServer(s=>s.destroy()).listen(7000,'${network.address(host)}',()=>console.log('listening'))`,
    ]),
  });
  await server.waitForLine(/^listening$/, 10_000);
  return server;
}

/** Connects from the test process itself; rejects if it cannot. */
function reachFromHere(host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: 7000 }, () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}

/** A TCP server on port 7000 of this process's 127.0.0.1. */
function listenHere(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((s) => s.destroy());
    server.once('error', reject);
    server.listen(7000, '127.0.0.1', () => resolve(server));
  });
}

describe('nemesis network', () => {
  let network: NamespaceNetwork;
  beforeAll(() => {
    network = NamespaceNetwork.create(leaseFromEnv());
  });
  afterAll(() => {
    network.destroy();
    expect(leftovers(network.lease.prefix)).toEqual([]);
  });

  it('gives each host its own namespace and address, reachable from the others and from the test process', async () => {
    await Promise.all(HOSTS.map((h) => listener(network, h)));
    expect(await probe(network, 'n1', network.address('n2'))).toBe('connected');
    expect(await probe(network, 'coord', network.address('n5'))).toBe('connected');
    // The test process's own link reaches every host.
    for (const host of HOSTS) await reachFromHere(network.address(host));
    // Nothing beyond the /24: no route out of a namespace.
    expect(await probe(network, 'n1', '192.0.2.1')).toBe('ENETUNREACH');
    // Loopback is up inside, and apart from the test process's.
    const local = await listenHere();
    expect(await probe(network, 'n1', '127.0.0.1')).toBe('ECONNREFUSED');
    local.close();
  });

  it('partitions hosts with iptables, keeps the test process connected, and heals', async () => {
    await listener(network, 'n3');
    applyPartition(network, [['n3'], ['coord', 'n1', 'n2', 'n4', 'n5']]);
    expect(await probe(network, 'n1', network.address('n3'))).toBe('timeout');
    expect(await probe(network, 'coord', network.address('n3'))).toBe('timeout');
    await reachFromHere(network.address('n3'));
    applyPartition(network, []);
    expect(await probe(network, 'n1', network.address('n3'))).toBe('connected');
  });

  it('runs a server in its namespace under libfaketime, with the pid the suite signals being its own', async () => {
    const placement = namespacePlacement(network, (h) => (h === 'n2' ? faketimeEnv(120_000) : {}));
    const spec = placement.launch(1, '-e', [
      // Written as plain text: console.log would colour the numbers where FORCE_COLOR is set.
      'process.stdout.write(`${process.pid} ${Date.now()}\\n`); setTimeout(() => {}, 5000)',
    ]);
    const before = Date.now();
    const child = ManagedProcess.start({ name: 'skewed', ...spec });
    const line = await child.waitForLine(/^\d+ \d+$/, 10_000);
    const [pid, now] = line.split(' ').map(Number);
    expect(pid).toBe(child.pid);
    expect(now as number).toBeGreaterThan(before + 118_000);
    expect(now as number).toBeLessThan(Date.now() + 122_000);
    expect(await placement.endpoint(1)).toEqual({ host: network.address('n2'), port: 5002 });
  });
});
