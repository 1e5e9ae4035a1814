import type { WriteOutcome } from './history-checker';
import type { HistoryRecorder } from './history-recorder';
import type { WorkloadTarget } from './workload-targets';

/** One operation of a workload. */
export interface Operation {
  readonly kind: 'put' | 'delete' | 'get';
  readonly key: string;
  /** Names the operation (`c3-op1234`), unique in the workload; a put writes it as its value. */
  readonly op: string;
}

/** When an operation ran (on `performance.now()`) and how it ended. */
export interface OperationResult {
  readonly start: number;
  readonly end: number;
  readonly outcome: WriteOutcome;
}

function node(id: string | undefined): { node?: string } {
  return id === undefined ? {} : { node: id };
}

/**
 * Runs an operation on `target` and records it for the history checker: every write with
 * its outcome, every read that got an answer.
 */
export async function perform(
  target: WorkloadTarget,
  recorder: HistoryRecorder,
  { kind, key, op }: Operation,
): Promise<OperationResult> {
  const start = performance.now();
  if (kind === 'get') {
    const result = await target.get(key);
    const end = performance.now();
    if (!result.ok) return { start, end, outcome: result.outcome };
    recorder.read(key, { op, start, end, value: result.value, ...node(result.node) });
    return { start, end, outcome: 'ok' };
  }
  const result = kind === 'put' ? await target.put(key, op) : await target.delete(key);
  const end = performance.now();
  const outcome = result.ok ? 'ok' : result.outcome;
  const value = kind === 'put' ? op : null;
  recorder.write(key, { kind, value, op, start, end, outcome, ...node(result.node) });
  return { start, end, outcome };
}
