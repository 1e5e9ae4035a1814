import { openClient } from '../harness/clients';
import type { Cluster } from '../harness/cluster';
import { HistoryRecorder } from '../harness/history-recorder';
import { perform, type Operation, type OperationResult } from '../harness/operation';
import { seededRandom } from '../harness/seeded-random';
import { sleep } from '../harness/wait';
import { BalancedTarget, ClientTarget, type WorkloadTarget } from '../harness/workload-targets';
import { keyName, KEYS_PER_CLIENT, WORKLOAD_CLIENTS, WRITES_PER_KEY } from './keys';
import { picker, type Picker } from './schedule';

/** Options of {@link SingleWriterWorkload}. */
export interface WorkloadOptions {
  readonly cluster: Cluster;
  readonly seed: number;
  /** Bound on one operation, the client's retries included; past it, it is indeterminate. */
  readonly opTimeoutMs: number;
  /** The per-request timeout. */
  readonly requestTimeoutMs: number;
  /** Shortest and longest pause of a client between two operations. */
  readonly thinkMs: readonly [number, number];
}

/** An operation and how it ended, whoever issued it. */
export interface OperationRecord extends Operation, OperationResult {
  readonly client: number;
}

interface Slot {
  generation: number;
  writesLeft: number;
}

interface WorkloadClient {
  readonly index: number;
  readonly target: WorkloadTarget;
  readonly pick: Picker;
  readonly slots: Slot[];
  issued: number;
}

/** Shares of the operations: puts, deletes, then gets. */
const PUT_SHARE = 0.5;
const DELETE_SHARE = 0.1;

/**
 * Eight clients, each the only writer of its keys (see keys.ts), each issuing one
 * operation at a time from a seeded sequence: puts of values unique to each operation,
 * deletes and gets. Even clients go through @kv/client, which sends each request to the
 * key's primary; odd ones send each request to a running node picked at random, which
 * coordinates it, as a load balancer in front of the nodes would. Every operation is
 * recorded with its times and outcome.
 */
export class SingleWriterWorkload {
  readonly recorder = new HistoryRecorder();
  readonly operations: OperationRecord[] = [];
  private readonly clients: WorkloadClient[];

  constructor(private readonly options: WorkloadOptions) {
    const { cluster, requestTimeoutMs } = options;
    this.clients = Array.from({ length: WORKLOAD_CLIENTS }, (_, index) => {
      const pick = picker(seededRandom((Math.imul(options.seed, 0x85ebca6b) + index) >>> 0));
      const target =
        index % 2 === 0
          ? new ClientTarget(
              `c${index} (client)`,
              openClient({
                coordinator: cluster.coordinatorAddress,
                requestTimeoutMs,
                connectTimeoutMs: Math.min(1000, requestTimeoutMs),
                retries: 1,
                refreshIntervalMs: 1000,
              }),
              () => ({ signal: AbortSignal.timeout(options.opTimeoutMs) }),
            )
          : new BalancedTarget(
              `c${index} (any node)`,
              cluster,
              seededRandom((Math.imul(options.seed, 0xc2b2ae35) + index) >>> 0),
              { connectTimeoutMs: Math.min(1000, requestTimeoutMs), requestTimeoutMs },
            );
      const slots = Array.from({ length: KEYS_PER_CLIENT }, () => ({
        generation: 0,
        writesLeft: pick.between(...WRITES_PER_KEY),
      }));
      return { index, target, pick, slots, issued: 0 };
    });
  }

  /** The next operation of a client, from its seeded sequence. */
  private next(client: WorkloadClient): Operation {
    const slotIndex = client.pick.between(0, KEYS_PER_CLIENT - 1);
    const slot = client.slots[slotIndex] as Slot;
    const key = keyName(client.index, slotIndex, slot.generation);
    const roll = client.pick.between(0, 999) / 1000;
    const kind = roll < PUT_SHARE ? 'put' : roll < PUT_SHARE + DELETE_SHARE ? 'delete' : 'get';
    if (kind !== 'get' && --slot.writesLeft === 0) {
      slot.generation++;
      slot.writesLeft = client.pick.between(...WRITES_PER_KEY);
    }
    return { kind, key, op: `c${client.index}-op${client.issued++}` };
  }

  /** Runs every client until `signal` aborts; resolves once each one's last operation ended. */
  async run(signal: AbortSignal): Promise<void> {
    await Promise.all(
      this.clients.map(async (client) => {
        while (!signal.aborted) {
          const operation = this.next(client);
          const result = await perform(client.target, this.recorder, operation);
          this.operations.push({ ...operation, ...result, client: client.index });
          const think = client.pick.between(...this.options.thinkMs);
          await sleep(think, undefined, { signal }).catch(() => undefined);
        }
      }),
    );
  }

  /** Every key written or read so far. */
  keys(): string[] {
    return this.recorder.histories().map((h) => h.key);
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.target.close()));
  }
}
