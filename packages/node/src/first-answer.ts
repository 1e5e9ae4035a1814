import { newest, type StoredRecord } from './record';
import type { Replica } from './replica';
import type { AloneAnswer } from './replication';

/**
 * What the first of `replicas` able to answer alone holds. All are asked at once, before
 * the next request of a pipeline is dispatched, so no answer shows a write the client
 * sent after this read; any that answers alone will do. When every one that answered may
 * lack writes, the newest of their copies is the best there is. Undefined if none
 * answers at all. `failed` is told of each replica that could not answer.
 */
export function firstAnswer(
  key: Buffer,
  replicas: readonly Replica[],
  epoch: number,
  failed: (err: unknown) => void,
): Promise<{ record: StoredRecord | undefined } | undefined> {
  if (replicas.length === 0) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const stale: (StoredRecord | undefined)[] = [];
    let left = replicas.length;
    let answered = false;
    const settled = (): void => {
      if (--left > 0 || answered) return;
      resolve(stale.length === 0 ? undefined : { record: newest(stale) });
    };
    for (const replica of replicas) {
      // The executor runs now: every request is on its way before this returns.
      new Promise<AloneAnswer>((ask) => ask(replica.fetchAlone(key, epoch))).then(
        ({ alone, record }) => {
          if (!alone) stale.push(record);
          else if (!answered) {
            answered = true;
            resolve({ record });
          }
          settled();
        },
        (err: unknown) => {
          // Unreachable, or a refusal (another epoch, a version from the future).
          failed(err);
          settled();
        },
      );
    }
  });
}
