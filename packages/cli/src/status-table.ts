import type { ClusterStatus, NodeReport } from './status';

const COLUMNS = [
  'ADDRESS',
  'STATE',
  'ZONE',
  'KEYS',
  'OPS/S',
  'PRIMARY',
  'REPLICA',
  'EPOCH',
  'SYNC',
] as const;

/** Columns whose values are numbers, aligned right. */
const NUMERIC: ReadonlySet<string> = new Set(['KEYS', 'OPS/S', 'PRIMARY', 'REPLICA', 'EPOCH']);

/**
 * `kv status` as text: a summary line (two when no coordinator answered: why, then where
 * the ring came from), then one row per node with its address, state (`dead` as the
 * coordinator says, else `unreachable` when it did not answer INFO), zone, keys, ops/s, share of the ring as
 * primary and as replica, the ring epoch it routes with, and data movement ({@link syncOf}).
 *
 * ```text
 * Coordinator 127.0.0.1:5000, ring epoch 3, 3 nodes (3 reachable), replication factor 3
 * ADDRESS         STATE  ZONE  KEYS  OPS/S  PRIMARY  REPLICA  EPOCH  SYNC
 * 127.0.0.1:5001  up     -        4    2.0    34.1%   100.0%      3  ok
 * ```
 */
export function formatStatusTable(status: ClusterStatus): string[] {
  const reachable = status.nodes.filter((n) => n.reachable).length;
  const counts =
    `${plural(status.nodes.length, 'node')} (${reachable} reachable), ` +
    `replication factor ${status.replicationFactor}`;
  const summary =
    status.coordinatorError === null
      ? [`Coordinator ${status.coordinator}, ring epoch ${status.epoch}, ${counts}`]
      : [
          `Coordinator unreachable: ${status.coordinatorError}`,
          `Ring epoch ${status.epoch} from ${status.ringFrom ?? 'a member'}, ${counts}; ` +
            'node states are unknown without a coordinator',
        ];
  const rows = status.nodes.map((n) => rowOf(n, status.sampleMs > 0));
  return [...summary, ...table([[...COLUMNS], ...rows])];
}

function rowOf(node: NodeReport, sampled: boolean): string[] {
  return [
    node.address,
    node.state === 'dead' || node.reachable ? node.state : 'unreachable',
    node.zone === '' ? '-' : node.zone,
    node.keys === null ? '-' : String(node.keys),
    node.opsPerSec === null || !sampled ? '-' : formatRate(node.opsPerSec),
    formatPercent(node.primaryShare),
    formatPercent(node.replicaShare),
    node.ringEpoch === null ? '-' : String(node.ringEpoch),
    syncOf(node),
  ];
}

/**
 * `ok` when the node serves and nothing is pending; else its phase and what is pending,
 * e.g. `joining, 2 peers`, `ok, 40 hints`.
 */
export function syncOf(node: NodeReport): string {
  if (node.sync === null) return '-';
  const { phase, peersPending, hintsPending, handoffPending } = node.sync;
  const parts = [phase === 'serving' ? 'ok' : phase];
  if (peersPending > 0) parts.push(plural(peersPending, 'peer'));
  if (hintsPending > 0) parts.push(plural(hintsPending, 'hint'));
  if (handoffPending > 0) parts.push(`${handoffPending} to hand off`);
  return parts.join(', ');
}

/** Aligned columns two spaces apart, numbers to the right, no trailing spaces. */
function table(rows: readonly string[][]): string[] {
  const widths = COLUMNS.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((row) =>
    row
      .map((cell, c) => {
        const width = widths[c] ?? 0;
        return NUMERIC.has(COLUMNS[c] ?? '') ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd(),
  );
}

/** `34.1%`. */
export function formatPercent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

/** `0`, `2.5`, `1234`: one decimal below 100/s, where it says something. */
export function formatRate(perSecond: number): string {
  if (perSecond === 0) return '0';
  return perSecond < 100 ? perSecond.toFixed(1) : String(Math.round(perSecond));
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
