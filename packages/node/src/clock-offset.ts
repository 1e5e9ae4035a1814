/**
 * One measurement of another process's clock: this node's wall clock when the request left
 * (`sentAt`) and when the answer came back (`receivedAt`), and the remote wall clock in the
 * answer. As in NTP, the remote clock was read somewhere inside the round trip, so the
 * offset is known to within half the round trip.
 */
export interface ClockSample {
  readonly sentAt: number;
  readonly remoteAt: number;
  readonly receivedAt: number;
}

/** What a sample says: the remote clock minus ours, give or take `uncertaintyMs`. */
export interface OffsetEstimate {
  readonly offsetMs: number;
  readonly uncertaintyMs: number;
  /** When the estimate was made, on the clock that ages it. */
  readonly at: number;
}

/** The verdict on this node's clock. */
export interface ClockVerdict {
  /** Out of bounds: this node must neither stamp writes nor acknowledge replica writes. */
  readonly fenced: boolean;
  /** The median offset of this node from the sources (ours minus theirs), in ms. */
  readonly offsetMs: number;
  /** Sources with a fresh estimate. */
  readonly sources: number;
  /** Of those, how many place this node beyond the bound. */
  readonly beyond: number;
  /** False until a first sample was recorded: nothing is known of this clock yet. */
  readonly measured: boolean;
}

/** Options of {@link ClockOffsetMonitor}. */
export interface ClockOffsetOptions {
  /** Largest tolerated difference between this node's clock and the cluster's. */
  readonly maxOffsetMs: number;
  /**
   * Estimates older than this are ignored: a source not measured lately says nothing.
   * @default 10000
   */
  readonly maxAgeMs?: number;
  /**
   * A monotonic clock in milliseconds that ages samples. Not the wall clock being judged:
   * after that one steps back, old samples would look fresh.
   * @default performance.now
   */
  readonly monotonic?: () => number;
}

/** Estimates one sample's offset; `undefined` for a sample that makes no sense (time ran backwards). */
export function estimate(sample: ClockSample): OffsetEstimate | undefined {
  const roundTrip = sample.receivedAt - sample.sentAt;
  if (!(roundTrip >= 0) || !Number.isFinite(sample.remoteAt)) return undefined;
  const midpoint = sample.sentAt + roundTrip / 2;
  return {
    offsetMs: sample.remoteAt - midpoint,
    uncertaintyMs: roundTrip / 2,
    at: sample.receivedAt,
  };
}

/**
 * Tracks how far this node's clock is from other members' (the coordinator's and peers'),
 * and fences the node when it is beyond `maxOffsetMs` of most of them — CockroachDB's
 * max-offset rule. Last-writer-wins orders writes by their timestamps, so a node whose clock
 * runs ahead would stamp versions that beat writes acknowledged after them; a fenced node
 * stamps nothing until its clock is back in bounds.
 *
 * A source counts as "beyond" only when the offset exceeds the bound by more than the
 * measurement's uncertainty, so a slow round trip never fences a node. Pure: the caller
 * feeds samples with its own clock readings and asks for the verdict.
 */
export class ClockOffsetMonitor {
  private readonly bySource = new Map<string, OffsetEstimate>();
  readonly maxOffsetMs: number;
  private readonly maxAgeMs: number;
  private readonly monotonic: () => number;
  private last: ClockVerdict = {
    fenced: false,
    offsetMs: 0,
    sources: 0,
    beyond: 0,
    measured: false,
  };

  constructor(options: ClockOffsetOptions) {
    this.maxOffsetMs = options.maxOffsetMs;
    this.maxAgeMs = options.maxAgeMs ?? 10_000;
    this.monotonic = options.monotonic ?? (() => performance.now());
  }

  /**
   * Records a sample from `source`. Of a source's recent samples, the one with the shortest
   * round trip is the most precise, so a new sample replaces the kept one only if it is
   * more precise, the kept one has aged past half of `maxAgeMs`, or the two disagree by more
   * than their uncertainties together (a clock stepped: the old sample is simply wrong).
   */
  record(source: string, sample: ClockSample): void {
    const measured = estimate(sample);
    if (!measured) return;
    const next = { ...measured, at: this.monotonic() };
    const kept = this.bySource.get(source);
    if (
      !kept ||
      next.uncertaintyMs <= kept.uncertaintyMs ||
      next.at - kept.at > this.maxAgeMs / 2 ||
      Math.abs(next.offsetMs - kept.offsetMs) > next.uncertaintyMs + kept.uncertaintyMs
    ) {
      this.bySource.set(source, next);
    }
  }

  /** Forgets a source (a member that left). */
  forget(source: string): void {
    this.bySource.delete(source);
  }

  /**
   * The verdict now: fenced when a majority of the sources measured within `maxAgeMs`
   * place this node beyond the bound. With no fresh source the last verdict stands: a node
   * fenced and then cut off stays fenced (it cannot know that its clock recovered).
   */
  verdict(): ClockVerdict {
    const now = this.monotonic();
    const fresh = [...this.bySource.values()].filter((e) => now - e.at <= this.maxAgeMs);
    if (fresh.length === 0) return { ...this.last, sources: 0, beyond: 0 };
    const beyond = fresh.filter(
      (e) => Math.abs(e.offsetMs) - e.uncertaintyMs > this.maxOffsetMs,
    ).length;
    const ours = fresh.map((e) => 0 - e.offsetMs).sort((a, b) => a - b);
    const mid = ours.length >> 1;
    const offsetMs =
      ours.length % 2 === 1
        ? (ours[mid] as number)
        : ((ours[mid - 1] as number) + (ours[mid] as number)) / 2;
    this.last = {
      fenced: beyond * 2 > fresh.length,
      offsetMs,
      sources: fresh.length,
      beyond,
      measured: true,
    };
    return this.last;
  }
}
