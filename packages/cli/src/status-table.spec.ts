import type { ClusterStatus, NodeReport } from './status';
import { formatPercent, formatRate, formatStatusTable } from './status-table';

const node: NodeReport = {
  address: '127.0.0.1:5001',
  state: 'up',
  zone: '',
  weight: 1,
  reachable: true,
  error: null,
  keys: 1204,
  opsPerSec: 2.5,
  ringEpoch: 3,
  uptimeSeconds: 60,
  primaryShare: 0.3412,
  replicaShare: 1,
  sync: { phase: 'serving', peersPending: 0, hintsPending: 0, handoffPending: 0 },
};

const status: ClusterStatus = {
  coordinator: '127.0.0.1:5000',
  coordinatorError: null,
  epoch: 3,
  ringFrom: '127.0.0.1:5000',
  replicationFactor: 3,
  sampleMs: 1000,
  nodes: [
    node,
    {
      ...node,
      address: '127.0.0.1:5002',
      zone: 'b',
      keys: 7,
      opsPerSec: 1234.4,
      ringEpoch: 2,
      sync: { phase: 'joining', peersPending: 2, hintsPending: 1, handoffPending: 0 },
    },
    {
      ...node,
      address: '127.0.0.1:5003',
      reachable: false,
      error: 'down',
      keys: null,
      opsPerSec: null,
      ringEpoch: null,
      sync: null,
      primaryShare: 0.25,
      replicaShare: 0.755,
    },
  ],
};

describe('formatStatusTable', () => {
  it('prints a summary and one aligned row per node', () => {
    expect(formatStatusTable(status)).toEqual([
      'Coordinator 127.0.0.1:5000, ring epoch 3, 3 nodes (2 reachable), replication factor 3',
      'ADDRESS         STATE        ZONE  KEYS  OPS/S  PRIMARY  REPLICA  EPOCH  SYNC',
      '127.0.0.1:5001  up           -     1204    2.5    34.1%   100.0%      3  ok',
      '127.0.0.1:5002  up           b        7   1234    34.1%   100.0%      2  joining, 2 peers, 1 hint',
      '127.0.0.1:5003  unreachable  -        -      -    25.0%    75.5%      -  -',
    ]);
  });

  it('shows no ops/s when they were not sampled', () => {
    const lines = formatStatusTable({ ...status, sampleMs: 0, nodes: [node] });
    expect(lines[0]).toContain('1 node (1 reachable)');
    expect(lines[2]).toBe('127.0.0.1:5001  up     -     1204      -    34.1%   100.0%      3  ok');
  });
});

describe('formatStatusTable without a coordinator', () => {
  it('says why no coordinator answered and where the ring came from', () => {
    const lines = formatStatusTable({
      ...status,
      coordinatorError: '127.0.0.1:5000 (ECONNREFUSED), 127.0.0.1:5002 (not a coordinator)',
      ringFrom: '127.0.0.1:5002',
      sampleMs: 0,
      nodes: [{ ...node, state: 'unknown' }],
    });
    expect(lines.slice(0, 3)).toEqual([
      'Coordinator unreachable: 127.0.0.1:5000 (ECONNREFUSED), 127.0.0.1:5002 (not a coordinator)',
      'Ring epoch 3 from 127.0.0.1:5002, 1 node (1 reachable), replication factor 3; node states are unknown without a coordinator',
      'ADDRESS         STATE    ZONE  KEYS  OPS/S  PRIMARY  REPLICA  EPOCH  SYNC',
    ]);
    expect(lines[3]).toMatch(/^127\.0\.0\.1:5001 {2}unknown /);
  });

  it('shows a node the coordinator declared dead as dead', () => {
    const dead = { ...node, state: 'dead', reachable: false, keys: null, sync: null };
    expect(formatStatusTable({ ...status, nodes: [dead] })[2]).toMatch(
      /^127\.0\.0\.1:5001 {2}dead /,
    );
  });
});

describe('number formats', () => {
  it('round sensibly', () => {
    expect(formatPercent(1)).toBe('100.0%');
    expect(formatPercent(0.00049)).toBe('0.0%');
    expect(formatRate(0)).toBe('0');
    expect(formatRate(0.04)).toBe('0.0');
    expect(formatRate(99.94)).toBe('99.9');
    expect(formatRate(100.4)).toBe('100');
  });
});
