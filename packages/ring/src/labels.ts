/**
 * Numbering of one kind of label (zones, or hosts): each label in use has an index, and the
 * index of a label no member has any more is reused, so the index space stays as small as
 * the labels in use however many members come and go. Copied, never shared, between tables.
 */
export class LabelIndex {
  private readonly indexOf: Map<string, number>;
  /** Members holding each index's label; 0 for a free index. */
  private readonly holders: number[];
  private readonly free: number[];
  /** Distinct labels in use. */
  distinct: number;

  constructor(from?: LabelIndex) {
    this.indexOf = new Map(from?.indexOf);
    this.holders = from ? [...from.holders] : [];
    this.free = from ? [...from.free] : [];
    this.distinct = from?.distinct ?? 0;
  }

  /** Indices are below this. */
  get slots(): number {
    return this.holders.length;
  }

  /** One more member holds `label`: its index. */
  hold(label: string): number {
    let i = this.indexOf.get(label);
    if (i === undefined) {
      i = this.free.pop() ?? this.holders.length;
      this.indexOf.set(label, i);
      this.holders[i] = 0;
    }
    if (this.holders[i] === 0) this.distinct++;
    this.holders[i] = (this.holders[i] as number) + 1;
    return i;
  }

  /** A member that held `label` no longer does. */
  release(label: string): void {
    const i = this.indexOf.get(label);
    if (i === undefined) return;
    const left = (this.holders[i] as number) - 1;
    this.holders[i] = left;
    if (left > 0) return;
    this.distinct--;
    this.indexOf.delete(label);
    this.free.push(i);
  }
}
