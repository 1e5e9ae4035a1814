import { ClientClosedError, NotServingError } from './errors';
import { parseNodeInfo, type NodeInfo } from './info';
import type { NodeStatus } from './node-status';
import { notServing, waitUntilServing, type ServingSource } from './serving';

const nodes = ['127.0.0.1:5001', '127.0.0.1:5002'];

/** A cluster whose coordinator and nodes answer from mutable state. */
function cluster() {
  const state = {
    coordinatorUp: true,
    epoch: 4,
    states: new Map(nodes.map((id) => [id, 'up'])),
    infos: new Map(nodes.map((id) => [id, 'ring_epoch:4\nphase:serving'])),
    closed: false,
  };
  const source: ServingSource = {
    listNodes: () => {
      if (state.closed) return Promise.reject(new ClientClosedError());
      if (!state.coordinatorUp) return Promise.reject(new Error('ECONNREFUSED'));
      return Promise.resolve(
        [...state.states].map(([id, s]): NodeStatus => ({
          id,
          state: s,
          zone: '',
          weight: 1,
          lastHeartbeatMs: 0,
        })),
      );
    },
    refreshRing: () => Promise.resolve({ epoch: state.epoch }),
    inspectNode: (id): Promise<NodeInfo> => {
      const text = state.infos.get(id);
      return text === undefined
        ? Promise.reject(new Error(`${id} is unreachable`))
        : Promise.resolve(parseNodeInfo(text));
    },
  };
  return { state, source };
}

describe('notServing', () => {
  it('is empty when every node is up and serving at the coordinator epoch', async () => {
    expect(await notServing(cluster().source, nodes)).toEqual([]);
  });

  it('names the nodes the coordinator does not list as up', async () => {
    const { state, source } = cluster();
    state.states.set('127.0.0.1:5002', 'joining');
    state.states.delete('127.0.0.1:5001');
    expect(await notServing(source, nodes)).toEqual(nodes);
  });

  it('names up nodes still behind the coordinator epoch, not serving, or silent', async () => {
    const { state, source } = cluster();
    state.epoch = 5;
    state.infos.set('127.0.0.1:5001', 'ring_epoch:5\nphase:serving');
    expect(await notServing(source, nodes)).toEqual(['127.0.0.1:5002']);
    state.infos.set('127.0.0.1:5002', 'ring_epoch:5\nphase:joining');
    expect(await notServing(source, nodes)).toEqual(['127.0.0.1:5002']);
    state.infos.delete('127.0.0.1:5002');
    expect(await notServing(source, nodes)).toEqual(['127.0.0.1:5002']);
  });

  it('asks only the coordinator when there are no nodes to wait for', async () => {
    const { state, source } = cluster();
    expect(await notServing(source, [])).toEqual([]);
    state.coordinatorUp = false;
    await expect(notServing(source, [])).rejects.toThrow('ECONNREFUSED');
  });
});

describe('waitUntilServing', () => {
  it('waits through failed checks until the nodes serve', async () => {
    const { state, source } = cluster();
    state.coordinatorUp = false;
    state.infos.set('127.0.0.1:5002', 'ring_epoch:3\nphase:serving');
    setTimeout(() => (state.coordinatorUp = true), 30);
    setTimeout(() => state.infos.set('127.0.0.1:5002', 'ring_epoch:4\nphase:serving'), 60);
    await waitUntilServing(source, nodes, { intervalMs: 5, timeoutMs: 5000 });
    expect(await notServing(source, nodes)).toEqual([]);
  });

  it('gives up after the timeout, naming the nodes still waited for', async () => {
    const { state, source } = cluster();
    state.states.set('127.0.0.1:5002', 'joining');
    const err = (await waitUntilServing(source, nodes, { intervalMs: 5, timeoutMs: 30 }).catch(
      (e: unknown) => e,
    )) as NotServingError;
    expect(err).toBeInstanceOf(NotServingError);
    expect(err.waiting).toEqual(['127.0.0.1:5002']);
    expect(err.message).toBe('127.0.0.1:5002 did not serve reads within 30 ms: see their logs');
  });

  it('says the coordinator did not answer when there was nothing else to wait for', async () => {
    const { state, source } = cluster();
    state.coordinatorUp = false;
    await expect(waitUntilServing(source, [], { intervalMs: 5, timeoutMs: 20 })).rejects.toThrow(
      'the coordinator did not answer within 20 ms: is it running?',
    );
  });

  it('stops when aborted, and when the client is closed', async () => {
    const { state, source } = cluster();
    state.coordinatorUp = false;
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('enough')), 20);
    await expect(
      waitUntilServing(source, nodes, { intervalMs: 5, signal: controller.signal }),
    ).rejects.toThrow('enough');
    state.closed = true;
    await expect(waitUntilServing(source, nodes, { intervalMs: 5 })).rejects.toThrow(
      ClientClosedError,
    );
  });
});
