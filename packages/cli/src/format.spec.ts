import { CoordinatorUnreachableError } from '@kv/client';
import type { FallbackEvent } from '@kv/client';
import type { CommandResult } from './command-runners';
import {
  BANNER_TITLE,
  errorToJson,
  formatBanner,
  formatError,
  formatFallback,
  formatResult,
  resultToJson,
} from './format';

const put: CommandResult = {
  kind: 'put',
  key: 'user:1',
  value: Buffer.from('Alice'),
  primary: '127.0.0.1:5001',
  replicas: ['127.0.0.1:5002', '127.0.0.1:5003'],
  ttlMs: undefined,
};

function get(value: string | null, fromReplica = false): CommandResult {
  return {
    kind: 'get',
    key: 'user:1',
    value: value === null ? null : Buffer.from(value),
    node: fromReplica ? '127.0.0.1:5003' : '127.0.0.1:5001',
    primary: '127.0.0.1:5001',
    fromReplica,
  };
}

describe('formatResult', () => {
  it('prints PUT in the spec shape', () => {
    expect(formatResult(put)).toEqual([
      '[Client] PUT user:1 = Alice [primary: 127.0.0.1:5001, replicas: [127.0.0.1:5002, 127.0.0.1:5003]]',
    ]);
    expect(formatResult({ ...put, replicas: [], ttlMs: 60_000 })).toEqual([
      '[Client] PUT user:1 = Alice [primary: 127.0.0.1:5001, replicas: []] [ttl: 60s]',
    ]);
    expect(formatResult({ ...put, ttlMs: 1500 })[0]).toMatch(/ \[ttl: 1500ms\]$/);
  });

  it('prints GET found, from a replica, and not found', () => {
    expect(formatResult(get('Alice'))).toEqual(['[Client] GET user:1 = Alice']);
    expect(formatResult(get('Alice', true))).toEqual([
      '[Client] GET user:1 = Alice (from replica 127.0.0.1:5003)',
    ]);
    expect(formatResult(get(null))).toEqual(['[Client] GET user:1 not found']);
    expect(formatResult(get('a\nb'))).toEqual(['[Client] GET user:1 = "a\\nb"']);
  });

  it('prints DELETE with its primary', () => {
    const result: CommandResult = {
      kind: 'delete',
      key: 'user:1',
      existed: true,
      primary: '127.0.0.1:5001',
    };
    expect(formatResult(result)).toEqual(['[Client] DELETE user:1 [primary: 127.0.0.1:5001]']);
    expect(formatResult({ ...result, existed: false })).toEqual([
      '[Client] DELETE user:1 not found [primary: 127.0.0.1:5001]',
    ]);
  });

  it('prints LIST_NODES as the spec does, with state and zone after the address', () => {
    const node = { state: 'up', zone: '', weight: 1, lastHeartbeatMs: 10 };
    expect(
      formatResult({
        kind: 'nodes',
        nodes: [
          { ...node, id: '127.0.0.1:5001' },
          { ...node, id: '10.0.0.12:15002', zone: 'b', state: 'probation' },
        ],
      }),
    ).toEqual(['OK Nodes:', '  127.0.0.1:5001   up', '  10.0.0.12:15002  probation  zone=b']);
    expect(formatResult({ kind: 'nodes', nodes: [] })).toEqual(['OK Nodes:', '  (none)']);
  });

  it('prints Goodbye! for EXIT and the command list for HELP', () => {
    expect(formatResult({ kind: 'exit' })).toEqual(['Goodbye!']);
    const help = formatResult({ kind: 'help' });
    expect(help[0]).toBe('Commands:');
    expect(help).toContain('  PUT key value     - Store a key-value pair');
  });
});

describe('formatBanner', () => {
  it('starts with the spec title and lists the commands', () => {
    const banner = formatBanner();
    expect(banner[0]).toBe(BANNER_TITLE);
    expect(banner[0]).toBe('=== Distributed KV Store Client ===');
    expect(banner[1]).toBe('Commands:');
    expect(banner).toContain('  GET key           - Retrieve a value');
    expect(banner).toContain('  EXIT              - Exit the shell (or Ctrl-D)');
  });
});

describe('formatFallback', () => {
  const event: FallbackEvent = {
    key: 'k',
    command: 'GET',
    from: '127.0.0.1:5001',
    to: '127.0.0.1:5002',
    error: new Error('x'),
  };
  it("uses the spec's words for a read", () => {
    expect(formatFallback(event)).toBe('[Client] Primary node failed, trying replicas...');
    expect(formatFallback({ ...event, command: 'PUT' })).toBe(
      '[Client] Primary node failed, trying another node...',
    );
  });
});

describe('JSON documents', () => {
  it('describe each result', () => {
    expect(resultToJson(put)).toEqual({
      command: 'PUT',
      key: 'user:1',
      value: 'Alice',
      primary: '127.0.0.1:5001',
      replicas: ['127.0.0.1:5002', '127.0.0.1:5003'],
      ttlMs: null,
    });
    expect(resultToJson(get('Alice', true))).toEqual({
      command: 'GET',
      key: 'user:1',
      found: true,
      value: 'Alice',
      node: '127.0.0.1:5003',
      primary: '127.0.0.1:5001',
      fromReplica: true,
    });
    expect(resultToJson(get(null))).toMatchObject({ found: false, value: null });
    expect(resultToJson({ kind: 'delete', key: 'k', existed: false, primary: 'p' })).toEqual({
      command: 'DELETE',
      key: 'k',
      deleted: false,
      primary: 'p',
    });
  });

  it('describe an error', () => {
    const err = new CoordinatorUnreachableError('127.0.0.1:5000', 'ECONNREFUSED');
    expect(errorToJson(err, 3)).toEqual({
      error: {
        name: 'CoordinatorUnreachableError',
        message: 'cannot reach coordinator at 127.0.0.1:5000 (ECONNREFUSED): is it running?',
        exitCode: 3,
      },
    });
    expect(formatError(new Error('one\n  two'))).toBe('kv: one; two');
  });
});
