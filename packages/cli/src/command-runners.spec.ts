import { EventEmitter } from 'node:events';
import type { FallbackEvent, NodeStatus } from '@kv/client';
import { executeCommand, exitCodeOfResult, type DataClient } from './command-runners';
import { ExitCode } from './exit-codes';

/** A client keeping values in a map; `failPrimary` makes reads fall back once. */
class FakeClient extends EventEmitter<{ fallback: [FallbackEvent] }> implements DataClient {
  readonly data = new Map<string, Buffer>();
  readonly puts: { key: string; ttlMs: number | undefined }[] = [];
  failPrimary = false;

  put(key: string, value: string | Buffer, options: { ttlMs?: number } = {}): Promise<void> {
    this.data.set(key, Buffer.from(value));
    this.puts.push({ key, ttlMs: options.ttlMs });
    return Promise.resolve();
  }

  getEntry(key: string) {
    const value = this.data.get(key) ?? null;
    if (this.failPrimary) {
      for (const to of ['b:2', 'c:3']) {
        this.emit('fallback', { key, command: 'GET', from: 'a:1', to, error: new Error('x') });
      }
    }
    return Promise.resolve({
      value,
      node: this.failPrimary ? 'c:3' : 'a:1',
      primary: 'a:1',
      fromReplica: this.failPrimary,
    });
  }

  delete(key: string): Promise<boolean> {
    return Promise.resolve(this.data.delete(key));
  }

  nodesForKey(): Promise<{ primary: string; replicas: string[] }> {
    return Promise.resolve({ primary: 'a:1', replicas: ['b:2', 'c:3'] });
  }

  listNodes(options: { all?: boolean } = {}): Promise<NodeStatus[]> {
    const up = { state: 'up', zone: '', weight: 1, lastHeartbeatMs: 1 };
    const nodes = [{ ...up, id: 'a:1' }];
    if (options.all) nodes.push({ ...up, id: 'd:4', state: 'dead' });
    return Promise.resolve(nodes);
  }
}

describe('executeCommand', () => {
  let client: FakeClient;
  const connect = () => Promise.resolve(client);
  beforeEach(() => {
    client = new FakeClient();
  });

  it('runs PUT, GET and DELETE with their placement', async () => {
    const put = await executeCommand(
      connect,
      {
        name: 'PUT',
        key: 'k',
        value: Buffer.from('v'),
      },
      { ttlMs: 5000 },
    );
    expect(put).toEqual({
      kind: 'put',
      key: 'k',
      value: Buffer.from('v'),
      primary: 'a:1',
      replicas: ['b:2', 'c:3'],
      ttlMs: 5000,
    });
    expect(client.puts).toEqual([{ key: 'k', ttlMs: 5000 }]);
    const get = await executeCommand(connect, { name: 'GET', key: 'k' });
    expect(get).toMatchObject({ kind: 'get', value: Buffer.from('v'), fromReplica: false });
    expect(exitCodeOfResult(get)).toBe(ExitCode.OK);
    const del = await executeCommand(connect, { name: 'DELETE', key: 'k' });
    expect(del).toEqual({ kind: 'delete', key: 'k', existed: true, primary: 'a:1' });
    expect(exitCodeOfResult(del)).toBe(ExitCode.OK);
  });

  it('maps a missing key to exit code 1', async () => {
    const get = await executeCommand(connect, { name: 'GET', key: 'none' });
    expect(get).toMatchObject({ kind: 'get', value: null });
    expect(exitCodeOfResult(get)).toBe(ExitCode.NOT_FOUND);
    const del = await executeCommand(connect, { name: 'DELETE', key: 'none' });
    expect(exitCodeOfResult(del)).toBe(ExitCode.NOT_FOUND);
  });

  it('reports a fallback once per command and stops listening after it', async () => {
    client.data.set('k', Buffer.from('v'));
    client.failPrimary = true;
    const onFallback = jest.fn();
    const get = await executeCommand(connect, { name: 'GET', key: 'k' }, { onFallback });
    expect(get).toMatchObject({ fromReplica: true, node: 'c:3' });
    expect(onFallback).toHaveBeenCalledTimes(1);
    expect(onFallback.mock.calls[0]?.[0]).toMatchObject({ command: 'GET', from: 'a:1' });
    expect(client.listenerCount('fallback')).toBe(0);
  });

  it('lists nodes, with the dead on request', async () => {
    const all = await executeCommand(connect, { name: 'LIST_NODES', all: true });
    expect(all.kind === 'nodes' && all.nodes.map((n) => n.state)).toEqual(['up', 'dead']);
  });

  it('needs no cluster for HELP and EXIT', async () => {
    const unreachable = () => Promise.reject(new Error('must not connect'));
    await expect(executeCommand(unreachable, { name: 'HELP' })).resolves.toEqual({ kind: 'help' });
    await expect(executeCommand(unreachable, { name: 'EXIT' })).resolves.toEqual({ kind: 'exit' });
  });

  it('passes failures on', async () => {
    const failing = () => Promise.reject(new Error('no coordinator'));
    await expect(executeCommand(failing, { name: 'GET', key: 'k' })).rejects.toThrow(
      'no coordinator',
    );
  });
});
