import type { RingEpoch } from '@kv/ring';

/**
 * Whether node `id`, as far as placement goes, may answer an R=1 read of token `t` from its
 * own copy alone: it owns the token in the read ring and, while a node joins or leaves, in
 * the target ring too. A range on its way to another node stops getting writes the moment
 * the epoch that completes the move arrives (the writes it places go to the new owners
 * only), and a node has not always learnt that epoch yet when it answers.
 * @param readOwners - `placement.readOwnersOfToken(t)`, when the caller has it
 */
export function ownsAlone(
  placement: RingEpoch,
  id: string,
  t: number,
  readOwners: readonly string[] = placement.readOwnersOfToken(t),
): boolean {
  return (
    readOwners.includes(id) && (placement.settled || placement.targetOwnersOfToken(t).includes(id))
  );
}
