import { Phase } from '@kv/ring';

/**
 * Parses an INFO reply (`# Section` headers and `key:value` lines) into one flat map of
 * fields. Later sections win on a repeated name.
 */
export function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  forEachField(text, (_section, name, value) => {
    fields[name] = value;
  });
  return fields;
}

/**
 * Parses an INFO reply into its sections, by lower-case name (`server`, `replication`,
 * `rebalance`, `keyspace`, ...), each a map of its fields. Fields before the first header
 * are in section `""`.
 */
export function parseInfoSections(text: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = {};
  forEachField(text, (section, name, value) => {
    (sections[section] ??= {})[name] = value;
  });
  return sections;
}

/** Calls `visit` for each `name:value` line, with the lower-case title of its section. */
function forEachField(
  text: string,
  visit: (section: string, name: string, value: string) => void,
): void {
  let section = '';
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('#')) {
      section = line.slice(1).trim().toLowerCase();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon > 0) visit(section, line.slice(0, colon), line.slice(colon + 1));
  }
}

/** Data movement on a node, from its `INFO rebalance`. */
export interface RebalanceInfo {
  /** Where the node stands in its ring epoch; null when it does not say. */
  readonly phase: Phase | null;
  /** Peers not yet synced in the current sync round. */
  readonly peersPending: number;
  /** Writes kept for replicas that could not be reached (hints). */
  readonly hintsPending: number;
  /** Records waiting to be handed to their new owners. */
  readonly handoffPending: number;
}

/**
 * A node's INFO, parsed once: every field as text, by section and flat, and the figures
 * tools read as numbers. A figure is null when the node does not report it or reports
 * something that is not a number.
 */
export interface NodeInfo {
  /** Every field by name, as text; later sections win on a repeated name. */
  readonly fields: Readonly<Record<string, string>>;
  /** The fields of each section, by lower-case section name. */
  readonly sections: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** The node's id, `host:port` (`node_id`). */
  readonly nodeId: string | null;
  /** Seconds since the node started (`uptime_in_seconds`). */
  readonly uptimeSeconds: number | null;
  /** Commands the node has processed (`total_commands_processed`). */
  readonly commandsProcessed: number | null;
  /** Live keys the node holds (`db0:keys=N`); 0 when it leaves `db0` out, as Redis does. */
  readonly keys: number | null;
  /** The ring epoch the node routes with (`ring_epoch`); null before it has a ring. */
  readonly ringEpoch: number | null;
  /** Data movement (`phase`, `sync_peers_pending`, `hints_pending`, `handoff_pending`). */
  readonly rebalance: RebalanceInfo;
}

const PHASES: ReadonlySet<string> = new Set(Object.values(Phase));

/** Parses a node's INFO reply into a {@link NodeInfo}. */
export function parseNodeInfo(text: string): NodeInfo {
  const sections = parseInfoSections(text);
  const fields = parseInfo(text);
  const phase = fields['phase'];
  return {
    fields,
    sections,
    nodeId: fields['node_id'] ?? null,
    uptimeSeconds: numberField(fields, 'uptime_in_seconds'),
    commandsProcessed: numberField(fields, 'total_commands_processed'),
    keys: keysOf(fields),
    ringEpoch: numberField(fields, 'ring_epoch'),
    rebalance: {
      phase: phase !== undefined && PHASES.has(phase) ? (phase as Phase) : null,
      peersPending: numberField(fields, 'sync_peers_pending') ?? 0,
      hintsPending: numberField(fields, 'hints_pending') ?? 0,
      handoffPending: numberField(fields, 'handoff_pending') ?? 0,
    },
  };
}

/** The number of keys in an INFO `db0` field such as `keys=12,expires=0`, or null. */
export function keysOf(fields: Readonly<Record<string, string>>): number | null {
  const match = /(?:^|,)keys=(\d+)/.exec(fields['db0'] ?? '');
  // A node with no keys may leave db0 out, as Redis does.
  if (!match) return fields['db0'] === undefined ? 0 : null;
  return Number(match[1]);
}

/** A non-negative decimal field, or null. */
function numberField(fields: Readonly<Record<string, string>>, name: string): number | null {
  const text = fields[name];
  if (text === undefined || !/^\d+(\.\d+)?$/.test(text.trim())) return null;
  return Number(text);
}
