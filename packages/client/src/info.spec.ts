import { keysOf, parseInfo, parseInfoSections, parseNodeInfo } from './info';

const NODE_INFO = [
  '# Server',
  'kv_role:node',
  'node_id:127.0.0.1:5001',
  'uptime_in_seconds:12',
  '',
  '# Stats',
  'total_commands_processed:1234',
  'cmdstat_get:calls=7',
  '',
  '# Replication',
  'ring_epoch:9',
  '',
  '# Rebalance',
  'phase:joining',
  'sync_peers_pending:2',
  'handoff_pending:0',
  'hints_pending:5',
  '',
  '# Keyspace',
  'db0:keys=42',
  '',
].join('\r\n');

describe('parseInfo', () => {
  it('flattens the sections into fields, keeping colons in values', () => {
    const text =
      '# Server\r\nnode_id:127.0.0.1:5001\r\nuptime_in_seconds:7\r\n\r\n# Keyspace\r\ndb0:keys=3\r\n';
    expect(parseInfo(text)).toEqual({
      node_id: '127.0.0.1:5001',
      uptime_in_seconds: '7',
      db0: 'keys=3',
    });
  });

  it('ignores lines that are not fields', () => {
    expect(parseInfo('garbage\n:no-name\n# Title\n')).toEqual({});
  });
});

describe('parseInfoSections', () => {
  it('keeps the fields of each section under its lower-case title', () => {
    const sections = parseInfoSections(NODE_INFO);
    expect(Object.keys(sections)).toEqual([
      'server',
      'stats',
      'replication',
      'rebalance',
      'keyspace',
    ]);
    expect(sections['replication']).toEqual({ ring_epoch: '9' });
    expect(sections['stats']?.['cmdstat_get']).toBe('calls=7');
    expect(parseInfoSections('loose:1\n# A\nx:2')).toEqual({ '': { loose: '1' }, a: { x: '2' } });
  });
});

describe('parseNodeInfo', () => {
  it('reads the figures tools use as numbers, and the phase', () => {
    const info = parseNodeInfo(NODE_INFO);
    expect(info).toMatchObject({
      nodeId: '127.0.0.1:5001',
      uptimeSeconds: 12,
      commandsProcessed: 1234,
      keys: 42,
      ringEpoch: 9,
      rebalance: { phase: 'joining', peersPending: 2, hintsPending: 5, handoffPending: 0 },
    });
    expect(info.fields['kv_role']).toBe('node');
    expect(info.sections['server']?.['kv_role']).toBe('node');
  });

  it('gives null for what a node leaves out or reports oddly', () => {
    const info = parseNodeInfo('ring_epoch:-1\nphase:sideways\ntotal_commands_processed:many');
    expect(info).toMatchObject({
      nodeId: null,
      uptimeSeconds: null,
      commandsProcessed: null,
      keys: 0,
      ringEpoch: null,
      rebalance: { phase: null, peersPending: 0, hintsPending: 0, handoffPending: 0 },
    });
  });
});

describe('keysOf', () => {
  it('reads db0 as Redis writes it', () => {
    expect(keysOf({ db0: 'keys=12' })).toBe(12);
    expect(keysOf({ db0: 'keys=12,expires=3,avg_ttl=0' })).toBe(12);
    expect(keysOf({})).toBe(0);
    expect(keysOf({ db0: 'garbage' })).toBeNull();
  });
});
