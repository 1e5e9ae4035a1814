import type { Member } from './member';
import type { VnodeTable } from './vnode-table';
import { TOKEN_SPACE } from './token';

/** How much of the token space a member owns. */
export interface Ownership {
  /** Member id. */
  readonly id: string;
  /** Fraction of the token space (0..1) for which the member is the primary. */
  readonly primary: number;
  /**
   * Fraction of the token space (0..1) for which the member is in the preference list
   * (primary or replica, among the first replication-factor members).
   */
  readonly replica: number;
}

/** Ownership of every member, in the order of `members`. Primary shares sum to 1. */
export function ownershipOf(vnodes: VnodeTable, members: readonly Member[]): Ownership[] {
  const { tokens, table, width, size, slots, slotOf } = vnodes;
  const primary = new Float64Array(slots);
  const replica = new Float64Array(slots);
  for (let pos = 0; pos < size; pos++) {
    // Arc owned by the vnode: (previous token, its token], wrapping for the first vnode.
    const previous =
      pos > 0 ? (tokens[pos - 1] as number) : (tokens[size - 1] as number) - TOKEN_SPACE;
    const arc = (tokens[pos] as number) - previous;
    addTo(primary, table[pos * width] as number, arc);
    for (let i = 0; i < width; i++) addTo(replica, table[pos * width + i] as number, arc);
  }
  return members.map(({ id }) => {
    const m = slotOf.get(id) as number;
    return Object.freeze({
      id,
      primary: (primary[m] as number) / TOKEN_SPACE,
      replica: (replica[m] as number) / TOKEN_SPACE,
    });
  });
}

function addTo(sums: Float64Array, i: number, value: number): void {
  sums[i] = (sums[i] as number) + value;
}
