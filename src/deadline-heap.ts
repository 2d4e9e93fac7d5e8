/**
 * A binary min-heap of (deadline, item): the store's stale deadlines. The
 * store keeps at most one live item per provider and re-queues it lazily
 * when it comes due with a newer deadline, so marking staleness costs
 * O(log n) per due provider instead of a scan of every provider each time
 * the stale timer fires (at 10,000 providers polled every 100 ms the scan ran
 * hundreds of times a second and took a fifth of the process's CPU). @internal
 */
export class DeadlineHeap<T> {
  #at: number[] = [];
  #items: T[] = [];

  get size(): number {
    return this.#at.length;
  }

  /** The earliest deadline, `Infinity` when empty. */
  get next(): number {
    return this.#at.length === 0 ? Infinity : (this.#at[0] as number);
  }

  push(at: number, item: T): void {
    const heap = this.#at;
    const items = this.#items;
    let i = heap.length;
    heap.push(at);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as number) <= at) break;
      heap[i] = heap[parent] as number;
      items[i] = items[parent] as T;
      i = parent;
    }
    heap[i] = at;
    items[i] = item;
  }

  /** Removes the earliest item and calls `take(at, item)`; `false` when empty. */
  pop(take: (at: number, item: T) => void): boolean {
    const heap = this.#at;
    const items = this.#items;
    if (heap.length === 0) return false;
    const at = heap[0] as number;
    const item = items[0] as T;
    const lastAt = heap.pop() as number;
    const lastItem = items.pop() as T;
    const n = heap.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        const child = right < n && (heap[right] as number) < (heap[left] as number) ? right : left;
        if ((heap[child] as number) >= lastAt) break;
        heap[i] = heap[child] as number;
        items[i] = items[child] as T;
        i = child;
      }
      heap[i] = lastAt;
      items[i] = lastItem;
    }
    take(at, item);
    return true;
  }

  clear(): void {
    this.#at = [];
    this.#items = [];
  }
}
