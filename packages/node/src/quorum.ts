/** How a quorum round ended. */
export type QuorumOutcome = 'reached' | 'failed';

/**
 * Counts acknowledgements from `targets` replicas until `required` of them have
 * acknowledged (reached) or so many failed that `required` can no longer be reached
 * (failed). Pure: the caller feeds it outcomes and reads the verdict.
 */
export class QuorumCounter {
  private acks = 0;
  private failures = 0;

  constructor(
    readonly targets: number,
    readonly required: number,
  ) {}

  get acknowledged(): number {
    return this.acks;
  }

  get failed(): number {
    return this.failures;
  }

  /** The verdict so far, or undefined while it is still open. */
  get outcome(): QuorumOutcome | undefined {
    if (this.acks >= this.required) return 'reached';
    if (this.targets - this.failures < this.required) return 'failed';
    return undefined;
  }

  ack(): QuorumOutcome | undefined {
    this.acks++;
    return this.outcome;
  }

  fail(): QuorumOutcome | undefined {
    this.failures++;
    return this.outcome;
  }
}
