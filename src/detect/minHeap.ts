// A binary min-heap of integer items ordered by two keys (primary, then secondary), on typed arrays: the priority
// queue of the mimicry search (Dijkstra's algorithm with lazy deletion: an item may be pushed again with a better
// key, and the caller skips the stale copies it pops).

export class MinHeap {
  private items = new Int32Array(1024);
  private primary = new Float64Array(1024);
  private secondary = new Float64Array(1024);
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(item: number, primary: number, secondary: number): void {
    if (this.size === this.items.length) this.grow();
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(primary, secondary, p)) break;
      this.move(p, i);
      i = p;
    }
    this.items[i] = item;
    this.primary[i] = primary;
    this.secondary[i] = secondary;
  }

  /** The item with the smallest keys, removed; -1 when empty. */
  pop(): number {
    if (this.size === 0) return -1;
    const top = this.items[0]!;
    const last = --this.size;
    if (last > 0) this.siftDown(this.items[last]!, this.primary[last]!, this.secondary[last]!);
    return top;
  }

  private siftDown(item: number, primary: number, secondary: number): void {
    const n = this.size;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.lessAt(c + 1, c)) c++;
      if (!this.greater(primary, secondary, c)) break;
      this.move(c, i);
      i = c;
    }
    this.items[i] = item;
    this.primary[i] = primary;
    this.secondary[i] = secondary;
  }

  private less(primary: number, secondary: number, at: number): boolean {
    const p = this.primary[at]!;
    return primary < p || (primary === p && secondary < this.secondary[at]!);
  }

  private greater(primary: number, secondary: number, at: number): boolean {
    const p = this.primary[at]!;
    return primary > p || (primary === p && secondary > this.secondary[at]!);
  }

  private lessAt(a: number, b: number): boolean {
    return this.less(this.primary[a]!, this.secondary[a]!, b);
  }

  private move(from: number, to: number): void {
    this.items[to] = this.items[from]!;
    this.primary[to] = this.primary[from]!;
    this.secondary[to] = this.secondary[from]!;
  }

  private grow(): void {
    const n = this.items.length * 2;
    const items = new Int32Array(n);
    items.set(this.items);
    const primary = new Float64Array(n);
    primary.set(this.primary);
    const secondary = new Float64Array(n);
    secondary.set(this.secondary);
    this.items = items;
    this.primary = primary;
    this.secondary = secondary;
  }
}
