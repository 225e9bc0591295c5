/**
 * The workers of one thread that wait for a loop deadline, earliest first.
 *
 * A binary min-heap keyed by (deadline, order): equal deadlines come out in the order the
 * workers were placed on the thread (timer order, then worker index), so a batch of workers
 * due at one instant always runs in the same order. Each entry knows its own position, so a
 * worker's deadline can be moved, or the worker taken out, in O(log n) without a search.
 */
export interface HeapEntry {
  /** Tie-break among equal deadlines: lower first. */
  readonly order: number;
  /** The deadline it waits for, valid while it is in the heap. */
  deadline: number;
  /** Its position in the heap, or -1 when it is not in it. */
  heapIndex: number;
}

export class DeadlineHeap<T extends HeapEntry> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  /** The earliest, without taking it out. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Puts `entry` in at `deadline`, or moves it there if it is in already. */
  set(entry: T, deadline: number): void {
    if (entry.heapIndex < 0) {
      entry.deadline = deadline;
      entry.heapIndex = this.items.length;
      this.items.push(entry);
      this.up(entry.heapIndex);
      return;
    }
    const earlier = deadline < entry.deadline;
    entry.deadline = deadline;
    if (earlier) this.up(entry.heapIndex);
    else this.down(entry.heapIndex);
  }

  /** Takes `entry` out, if it is in. */
  delete(entry: T): void {
    const at = entry.heapIndex;
    if (at < 0) return;
    const last = this.items.pop()!;
    entry.heapIndex = -1;
    if (last === entry) return;
    this.items[at] = last;
    last.heapIndex = at;
    this.up(at);
    this.down(last.heapIndex);
  }

  private before(a: T, b: T): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.order < b.order);
  }

  private up(at: number): void {
    const items = this.items;
    const entry = items[at]!;
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = items[parentAt]!;
      if (!this.before(entry, parent)) break;
      items[at] = parent;
      parent.heapIndex = at;
      at = parentAt;
    }
    items[at] = entry;
    entry.heapIndex = at;
  }

  private down(at: number): void {
    const items = this.items;
    const n = items.length;
    const entry = items[at]!;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.before(items[right]!, items[left]!) ? right : left;
      if (!this.before(items[child]!, entry)) break;
      items[at] = items[child]!;
      items[at]!.heapIndex = at;
      at = child;
    }
    items[at] = entry;
    entry.heapIndex = at;
  }
}
