import { createServer, type AddressInfo, type Server } from 'node:net';
import { encodeCommand, type RespValue } from '@kv/protocol';
import { Ring } from '@kv/ring';
import Redis from 'ioredis';
import { startCoordinator } from './coordinator';
import { ListenError } from './errors';
import { Membership } from './membership';
import { capturingLogger } from './test-support/log-sink';
import { waitFor } from './test-support/wait-for';
import {
  client,
  keepAlive,
  listedIds,
  raw,
  redises,
  start,
  tempDir,
  text,
} from './test-support/coordinator-harness';

describe('coordinator over TCP', () => {
  it('listens on the port it reports and closes idempotently', async () => {
    const coordinator = await start();
    expect(coordinator.host).toBe('127.0.0.1');
    expect(coordinator.port).toBeGreaterThan(0);
    expect(coordinator.epoch).toBe(0);
    const c = await client(coordinator);
    expect(text(await c.send(['PING']))).toBe('PONG');
    const first = coordinator.close();
    expect(coordinator.close()).toBe(first);
    await first;
  });

  it('places 1,000 keys exactly as a ring built from the same members', async () => {
    const coordinator = await start();
    const c = await client(coordinator);
    const members = [
      { id: '127.0.0.1:5001', zone: 'a', weight: 1 },
      { id: '127.0.0.1:5002', zone: 'b', weight: 2 },
      { id: '127.0.0.1:5003', zone: 'a', weight: 1 },
    ];
    for (const [i, m] of members.entries()) {
      const [host, port] = m.id.split(':') as [string, string];
      const reply = await c.send(['REGISTER_NODE', host, port, 'ZONE', m.zone, 'WEIGHT', m.weight]);
      expect(reply).toEqual([Buffer.from(m.id), i + 1]);
    }
    const ring = new Ring(members);
    const keys = Array.from({ length: 1000 }, (_, i) => `user:${i}`);
    const replies = await Promise.all(keys.map((key) => c.send(['GET_NODES_FOR_KEY', key])));
    for (const [i, key] of keys.entries()) {
      expect((replies[i] as Buffer[]).map(String)).toEqual(ring.preferenceList(key));
    }
    expect(coordinator.ring.equals(ring)).toBe(true);
  });

  it('serves a RING from which a node rebuilds the identical ring', async () => {
    const coordinator = await start({ replicationFactor: 2, vnodesPerWeight: 128 });
    const c = await client(coordinator);
    await c.send(['REGISTER_NODE', '127.0.0.1', 5001, 'ZONE', 'a']);
    await c.send(['REGISTER_NODE', '127.0.0.1', 5002, 'ZONE', 'b', 'WEIGHT', '1.5']);
    await c.send(['REGISTER_NODE', '10.1.2.3', 5003]);
    const [epoch, json] = (await c.send(['RING'])) as [number, Buffer];
    expect(epoch).toBe(3);
    expect(coordinator.epoch).toBe(3);
    const rebuilt = Ring.fromJSON(JSON.parse(json.toString('utf8')));
    expect(rebuilt.equals(coordinator.ring)).toBe(true);
    expect(rebuilt.replicationFactor).toBe(2);
    expect(rebuilt.preferenceList('user:1')).toEqual(coordinator.ring.preferenceList('user:1'));
  });

  it('marks a node that stops heartbeating as dead while the others stay', async () => {
    const { logger, lines } = capturingLogger();
    const coordinator = await start({ heartbeatIntervalMs: 50, failureTimeoutMs: 200, logger });
    const c = await client(coordinator);
    for (const port of [5001, 5002, 5003]) await c.send(['REGISTER_NODE', '127.0.0.1', port]);
    keepAlive(await client(coordinator), [5001, 5002]);

    await waitFor(
      async () => !(await listedIds(c)).includes('127.0.0.1:5003'),
      '127.0.0.1:5003 to be removed',
    );
    expect(await listedIds(c)).toEqual(['127.0.0.1:5001', '127.0.0.1:5002']);
    expect(await listedIds(c, true)).toEqual([
      '127.0.0.1:5001',
      '127.0.0.1:5002',
      '127.0.0.1:5003',
    ]);
    const dead = ((await c.send(['LIST_NODES', 'ALL'])) as RespValue[][])[2] as RespValue[];
    expect(dead.slice(0, 4).map(String)).toEqual(['127.0.0.1:5003', 'dead', '', '1']);
    expect(coordinator.epoch).toBe(4);
    expect(lines).toContain('[Coordinator] Node 127.0.0.1:5003 marked as dead and removed');
    expect(lines).toContain(
      '[Coordinator] Node 127.0.0.1:5001 registered (no zone, weight 1), epoch 1',
    );

    // The dead node comes back: its heartbeat is refused, so it registers again.
    await expect(c.send(['HEARTBEAT', '127.0.0.1', 5003])).rejects.toThrow(
      'NOTREGISTERED node 127.0.0.1:5003 is not registered: send REGISTER_NODE',
    );
    expect(await c.send(['REGISTER_NODE', '127.0.0.1', 5003])).toEqual([
      Buffer.from('127.0.0.1:5003'),
      5,
    ]);
    expect(await c.send(['HEARTBEAT', '127.0.0.1', 5001])).toBe(5);
  });

  it('removes a node that leaves gracefully at once', async () => {
    const { logger, lines } = capturingLogger();
    const coordinator = await start({ logger });
    const c = await client(coordinator);
    await c.send(['REGISTER_NODE', '127.0.0.1', 5001]);
    await c.send(['REGISTER_NODE', '127.0.0.1', 5002]);
    expect(text(await c.send(['UNREGISTER_NODE', '127.0.0.1', 5001]))).toBe('OK');
    expect(await listedIds(c, true)).toEqual(['127.0.0.1:5002']);
    expect(coordinator.epoch).toBe(3);
    expect(lines).toContain('[Coordinator] Node 127.0.0.1:5001 unregistered, epoch 3');
    await expect(c.send(['UNREGISTER_NODE', '127.0.0.1', 5001])).rejects.toThrow(/^NOTREGISTERED/);
  });

  it('works with ioredis', async () => {
    const coordinator = await start();
    const redis = new Redis({
      port: coordinator.port,
      host: '127.0.0.1',
      lazyConnect: true,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
    });
    redises.push(redis);
    await redis.connect();
    expect(await redis.call('REGISTER_NODE', '127.0.0.1', '5001', 'ZONE', 'a')).toEqual([
      '127.0.0.1:5001',
      1,
    ]);
    expect(await redis.call('heartbeat', '127.0.0.1', '5001')).toBe(1);
    expect(await redis.call('GET_NODES_FOR_KEY', 'user:1')).toEqual(['127.0.0.1:5001']);
    const [entry] = (await redis.call('LIST_NODES')) as unknown[][];
    expect(entry?.slice(0, 4)).toEqual(['127.0.0.1:5001', 'up', 'a', '1']);
    expect(typeof entry?.[4]).toBe('number');
    expect(await redis.ping()).toBe('PONG');
    const [epoch, json] = (await redis.call('RING')) as [number, string];
    expect(epoch).toBe(1);
    expect(Ring.fromJSON(JSON.parse(json)).equals(coordinator.ring)).toBe(true);
    expect(await redis.call('INFO')).toMatch(/^# Coordinator\r\n/);
    await expect(redis.call('HEARTBEAT', '127.0.0.1', '5999')).rejects.toThrow(
      'NOTREGISTERED node 127.0.0.1:5999 is not registered: send REGISTER_NODE',
    );
    await expect(redis.call('NOPE')).rejects.toThrow("ERR unknown command 'NOPE'");
  });

  it('answers inline commands from a plain TCP client', async () => {
    const coordinator = await start();
    const r = await raw(coordinator);
    r.write('LIST_NODES\r\n');
    expect(await r.until('*0\r\n')).toBe('*0\r\n');
    r.write('register_node 127.0.0.1 5001 zone a\r\n');
    expect(await r.until(':1\r\n')).toBe('*2\r\n$14\r\n127.0.0.1:5001\r\n:1\r\n');
    r.write('LIST_NODES\r\nPING\r\n');
    expect(await r.until('+PONG\r\n')).toMatch(
      /^\*1\r\n\*5\r\n\$14\r\n127\.0\.0\.1:5001\r\n\$2\r\nup\r\n\$1\r\na\r\n\$1\r\n1\r\n:\d+\r\n\+PONG\r\n$/,
    );
    r.write('GET_NODES_FOR_KEY "user 1"\r\n');
    expect(await r.until('5001\r\n')).toBe('*1\r\n$14\r\n127.0.0.1:5001\r\n');
  });

  it('answers bad requests with errors, keeps the connection, and keeps serving', async () => {
    const coordinator = await start();
    const r = await raw(coordinator);
    r.write('REGISTER_NODE 127.0.0.1\r\n');
    expect(await r.until('\r\n')).toBe(
      "-WRONGARGS wrong number of arguments for 'REGISTER_NODE': usage REGISTER_NODE host port [ZONE zone] [WEIGHT weight] [JOINING]\r\n",
    );
    r.write('REGISTER_NODE 127.0.0.1 70000\r\n');
    expect(await r.until('\r\n')).toBe(
      "-WRONGARGS invalid port '70000': expected an integer from 1 to 65535\r\n",
    );
    r.write('REGISTER_NODE 127.0.0.1 5001 WEIGHT -1\r\n');
    expect(await r.until('\r\n')).toBe(
      "-WRONGARGS invalid weight '-1': expected a number greater than 0 and at most 100\r\n",
    );
    r.write('SHUTDOWN\r\n');
    expect(await r.until('\r\n')).toBe("-ERR unknown command 'SHUTDOWN'\r\n");
    r.write('GET_NODES_FOR_KEY k\r\n');
    expect(await r.until('\r\n')).toBe('-UNAVAILABLE no nodes registered\r\n');
    r.write(encodeCommand(['PING', 'x'.repeat(64 * 1024 + 1)]));
    expect(await r.until('\r\n')).toMatch(/^-TOOLARGE argument of 65537 bytes exceeds/);
    r.write('PING\r\n');
    expect(await r.until('\r\n')).toBe('+PONG\r\n');
    expect(coordinator.epoch).toBe(0);
  });

  it('answers malformed RESP with -PROTO, closes only that connection, and keeps serving', async () => {
    const coordinator = await start();
    const bystander = await client(coordinator);
    const r = await raw(coordinator);
    r.write('*1\r\n:5\r\n');
    await r.closed;
    expect(r.received).toBe("-PROTO expected '$' for a request argument, got ':'\r\n");
    const unbalanced = await raw(coordinator);
    unbalanced.write('REGISTER_NODE "127.0.0.1 5001\r\n');
    await unbalanced.closed;
    expect(unbalanced.received).toMatch(/^-PROTO unbalanced quotes/);
    expect(text(await bystander.send(['PING']))).toBe('PONG');
    expect(await bystander.send(['REGISTER_NODE', '127.0.0.1', 5001])).toEqual([
      Buffer.from('127.0.0.1:5001'),
      1,
    ]);
  });

  it('answers -ERR to a command that hits a bug, logs it, and keeps serving', async () => {
    const { logger, lines } = capturingLogger();
    const coordinator = await start({ logger });
    const c = await client(coordinator);
    jest.spyOn(Membership.prototype, 'list').mockImplementationOnce(() => {
      throw new TypeError('something broke');
    });
    await expect(c.send(['LIST_NODES'])).rejects.toThrow('ERR internal error');
    expect(
      lines.some((l) => l.includes('Internal error serving') && l.includes('something broke')),
    ).toBe(true);
    expect(await c.send(['LIST_NODES'])).toEqual([]);
  });

  it('reports its state in INFO', async () => {
    const dataDir = await tempDir();
    const coordinator = await start({ dataDir, heartbeatIntervalMs: 300, failureTimeoutMs: 900 });
    const c = await client(coordinator);
    await c.send(['REGISTER_NODE', '127.0.0.1', 5001]);
    const info = text(await c.send(['INFO']));
    const fields = Object.fromEntries(
      info
        .split('\r\n')
        .filter((line) => line.includes(':'))
        .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]),
    );
    expect(info.startsWith('# Coordinator\r\n')).toBe(true);
    expect(fields).toMatchObject({
      epoch: '1',
      members: '1',
      members_up: '1',
      members_probation: '0',
      members_joining: '0',
      members_leaving: '0',
      dead_remembered: '0',
      connected_clients: '1',
      commands_processed: '2',
      heartbeat_interval_ms: '300',
      failure_timeout_ms: '900',
      replication_factor: '3',
      vnodes_per_weight: '2048',
      data_dir: dataDir,
      tcp_port: String(coordinator.port),
      role: 'leader',
      leader: `127.0.0.1:${coordinator.port}`,
      store: 'file',
      store_reachable: '1',
    });
    expect(fields['version']).toMatch(/^\d+\.\d+\.\d+/);
    expect(fields['uptime_in_seconds']).toMatch(/^\d+$/);
  });

  it('closes connections that stay idle for the idle timeout', async () => {
    const coordinator = await start({ idleTimeoutMs: 100 });
    const r = await raw(coordinator);
    r.write('PING\r\n');
    await r.until('+PONG\r\n');
    await r.closed;
    const c = await client(coordinator);
    expect(text(await c.send(['PING']))).toBe('PONG');
  });

  it('closes a connection that trickles a request past the request timeout', async () => {
    const coordinator = await start({ requestTimeoutMs: 100, idleTimeoutMs: 0 });
    const idle = await raw(coordinator);
    idle.write('PING\r\n');
    await idle.until('+PONG\r\n');
    const slow = await raw(coordinator);
    const request = encodeCommand(['REGISTER_NODE', '127.0.0.1', '5001']);
    let sent = 0;
    const trickle = setInterval(() => {
      if (sent < request.length) slow.write(request.subarray(sent, ++sent));
    }, 20);
    try {
      await slow.closed;
    } finally {
      clearInterval(trickle);
    }
    expect(slow.received).toBe('-TIMEOUT request not completed in 100 ms: connection closed\r\n');
    expect(coordinator.epoch).toBe(0);
    idle.write('PING\r\n');
    await idle.until('+PONG\r\n');
  });

  it('refuses connections beyond max connections', async () => {
    const coordinator = await start({ maxConnections: 2 });
    for (let i = 0; i < 2; i++) {
      const r = await raw(coordinator);
      r.write('PING\r\n');
      await r.until('+PONG\r\n');
    }
    const refused = await raw(coordinator);
    await refused.closed;
    expect(refused.received).toBe('-ERR max number of clients reached\r\n');
  });

  it('rejects with ListenError when the port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const attempt = startCoordinator({ port, silent: true });
      await expect(attempt).rejects.toThrow(ListenError);
      await expect(attempt).rejects.toThrow(
        `cannot listen on 127.0.0.1:${port} (EADDRINUSE): is another coordinator running there?`,
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

describe('coordinator with an etcd store', () => {
  it('refuses to start when etcd cannot be reached, saying where it looked', async () => {
    const gone = await start();
    const port = gone.port;
    await gone.close();
    await expect(
      start({ store: { kind: 'etcd', endpoints: [`127.0.0.1:${port}`], prefix: '/kv/' } }),
    ).rejects.toThrow(
      new RegExp(
        `^cannot reach etcd at etcd://127\\.0\\.0\\.1:${port}/kv: .*is it running, and is --store right\\?$`,
      ),
    );
  });
});
