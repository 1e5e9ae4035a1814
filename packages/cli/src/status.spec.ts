import { Ring } from '@kv/ring';
import {
  CoordinatorUnreachableError,
  parseNodeInfo,
  ReplyError,
  type NodeInfo,
  type NodeStatus,
} from '@kv/client';
import { gatherStatus, opsPerSecond, type StatusSource } from './status';

const members: NodeStatus[] = ['127.0.0.1:5002', '127.0.0.1:5001', '127.0.0.1:5003'].map((id) => ({
  id,
  state: 'up',
  zone: id.endsWith('3') ? 'b' : 'a',
  weight: 1,
  lastHeartbeatMs: 5,
}));

/** What a node answers to INFO with these fields. */
function parsed(fields: Record<string, string>): NodeInfo {
  return parseNodeInfo(
    Object.entries(fields)
      .map(([k, v]) => `${k}:${v}\r\n`)
      .join(''),
  );
}

/** A source whose nodes report scripted INFO samples, in order. */
function source(samples: Record<string, (Record<string, string> | Error)[]>): StatusSource & {
  calls: string[];
} {
  const calls: string[] = [];
  return {
    calls,
    listNodes: () => Promise.resolve(members),
    ring: () => Promise.resolve({ epoch: 7, ring: new Ring(members.map((m) => m.id)) }),
    inspectNode: (id) => {
      calls.push(id);
      const next = samples[id]?.shift();
      return next instanceof Error || next === undefined
        ? Promise.reject(next ?? new Error('no more samples'))
        : Promise.resolve(parsed(next));
    },
  };
}

function info(commands: number, keys: number): Record<string, string> {
  return {
    total_commands_processed: String(commands),
    db0: `keys=${keys}`,
    ring_epoch: '7',
    uptime_in_seconds: '12',
    phase: 'serving',
    sync_peers_pending: '0',
    hints_pending: String(keys === 0 ? 5 : 0),
    handoff_pending: '0',
  };
}

describe('gatherStatus', () => {
  it('combines membership, ring ownership and each node INFO', async () => {
    let clock = 0;
    const status = await gatherStatus(
      source({
        '127.0.0.1:5001': [info(100, 3), info(121, 4)],
        '127.0.0.1:5002': [info(10, 0), info(11, 0)],
        '127.0.0.1:5003': [new Error('127.0.0.1:5003 is unreachable (ECONNREFUSED)')],
      }),
      {
        coordinator: '127.0.0.1:5000',
        sampleMs: 1000,
        now: () => clock,
        sleep: (ms) => {
          clock += ms;
          return Promise.resolve();
        },
      },
    );
    expect(status).toMatchObject({ coordinator: '127.0.0.1:5000', epoch: 7, sampleMs: 1000 });
    expect(status.replicationFactor).toBe(3);
    expect(status.nodes.map((n) => n.address)).toEqual([
      '127.0.0.1:5001',
      '127.0.0.1:5002',
      '127.0.0.1:5003',
    ]);
    const [a, b, c] = status.nodes;
    expect(a).toMatchObject({ reachable: true, keys: 4, opsPerSec: 20, ringEpoch: 7, zone: 'a' });
    expect(b).toMatchObject({ reachable: true, keys: 0, opsPerSec: 0 });
    expect(b?.sync).toEqual({
      phase: 'serving',
      peersPending: 0,
      hintsPending: 5,
      handoffPending: 0,
    });
    expect(c).toMatchObject({
      reachable: false,
      state: 'up',
      zone: 'b',
      keys: null,
      opsPerSec: null,
      sync: null,
      error: '127.0.0.1:5003 is unreachable (ECONNREFUSED)',
    });
    const primaries = status.nodes.reduce((sum, n) => sum + n.primaryShare, 0);
    expect(primaries).toBeCloseTo(1, 9);
    for (const n of status.nodes) expect(n.replicaShare).toBeCloseTo(1, 9);
  });

  it('does not ask an unreachable node twice, and skips ops/s with sampleMs 0', async () => {
    const src = source({
      '127.0.0.1:5001': [info(1, 1)],
      '127.0.0.1:5002': [info(1, 1)],
      '127.0.0.1:5003': [new Error('down')],
    });
    const sleep = jest.fn(() => Promise.resolve());
    const status = await gatherStatus(src, { coordinator: 'c:1', sampleMs: 0, sleep });
    expect(sleep).not.toHaveBeenCalled();
    expect(src.calls).toHaveLength(3);
    expect(status.sampleMs).toBe(0);
    expect(status.nodes.map((n) => n.opsPerSec)).toEqual([null, null, null]);
    expect(status.nodes.map((n) => n.keys)).toEqual([1, 1, null]);
  });

  it('reports a node that stops answering between the samples as unreachable', async () => {
    const status = await gatherStatus(
      source({
        '127.0.0.1:5001': [info(1, 1), new Error('gone')],
        '127.0.0.1:5002': [info(1, 1), info(2, 1)],
        '127.0.0.1:5003': [info(1, 1), info(2, 1)],
      }),
      { coordinator: 'c:1', sampleMs: 5, sleep: () => Promise.resolve() },
    );
    expect(status.nodes[0]).toMatchObject({ reachable: false, error: 'gone' });
  });
});

describe('gatherStatus without a coordinator', () => {
  const unreachable = new CoordinatorUnreachableError('127.0.0.1:5000', 'ECONNREFUSED');
  const ring = new Ring([
    { id: '127.0.0.1:5001', zone: 'a', weight: 2 },
    { id: '127.0.0.1:5002', zone: 'b', weight: 1 },
  ]);

  it('lists the members of the ring learned from a node, with their own INFO', async () => {
    const status = await gatherStatus(
      {
        listNodes: () => Promise.reject(unreachable),
        ring: () => Promise.resolve({ epoch: 4, ring, from: '127.0.0.1:5002' }),
        inspectNode: (id) =>
          id === '127.0.0.1:5001'
            ? Promise.resolve(parsed(info(1, 9)))
            : Promise.reject(new Error('down')),
      },
      { coordinator: '127.0.0.1:5000', sampleMs: 0 },
    );
    expect(status).toMatchObject({
      coordinatorError: '127.0.0.1:5000 (ECONNREFUSED)',
      epoch: 4,
      ringFrom: '127.0.0.1:5002',
    });
    expect(status.nodes).toEqual([
      expect.objectContaining({ address: '127.0.0.1:5001', state: 'unknown', zone: 'a', keys: 9 }),
      expect.objectContaining({ address: '127.0.0.1:5002', state: 'unknown', reachable: false }),
    ]);
  });

  it('fails when no ring could be had either, and on a refusal from the coordinator', async () => {
    const noRing = {
      listNodes: () => Promise.reject(unreachable),
      ring: () => Promise.reject(unreachable),
      inspectNode: () => Promise.reject(new Error('not asked')),
    };
    await expect(gatherStatus(noRing, { coordinator: 'c:1' })).rejects.toBe(unreachable);
    const refusal = new ReplyError('NOAUTH this command is for cluster members');
    const refused = {
      ...noRing,
      listNodes: () => Promise.reject(refusal),
      ring: () => Promise.resolve({ epoch: 1, ring }),
    };
    await expect(gatherStatus(refused, { coordinator: 'c:1' })).rejects.toBe(refusal);
  });

  it('asks the coordinator for the recently dead too', async () => {
    const asked: unknown[] = [];
    await gatherStatus(
      {
        listNodes: (options) => {
          asked.push(options);
          return Promise.resolve([]);
        },
        ring: () => Promise.resolve({ epoch: 1, ring }),
        inspectNode: () => Promise.reject(new Error('not asked')),
      },
      { coordinator: 'c:1', sampleMs: 0 },
    );
    expect(asked).toEqual([{ all: true }]);
  });
});

describe('opsPerSecond', () => {
  it('count commands between samples, less the second INFO itself', () => {
    const a = { info: parsed({ total_commands_processed: '10' }), at: 0 };
    expect(opsPerSecond(a, { info: parsed({ total_commands_processed: '31' }), at: 2000 })).toBe(
      10,
    );
    expect(opsPerSecond(a, { info: parsed({ total_commands_processed: '11' }), at: 500 })).toBe(0);
    expect(opsPerSecond(a, { info: parsed({}), at: 500 })).toBeNull();
    expect(opsPerSecond(a, { info: parsed({ total_commands_processed: '11' }), at: 0 })).toBeNull();
  });
});
