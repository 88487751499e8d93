// An open-addressing hash table from an exact integer pair (a, b) -- a in 0..2^31-1 (a node or context id), b in
// 0..65535 (a syscall id) -- to a dense entry index 0..size-1 given in insertion order. Callers keep their values in
// their own typed arrays indexed by entry, so growing the table never moves values and iterating entries needs no
// walk over empty slots. Keys are compared exactly (both halves), so there are no false matches; the hash only
// decides where probing starts. Linear probing, load factor at most 1/2, nothing allocated per lookup.

/** Where probing starts for (a, b) in a table of 2^bits slots: multiplicative hashing, top bits. */
export function pairSlot(a: number, b: number, shift: number): number {
  return Math.imul(a ^ Math.imul(b, 0x85ebca6b), 0x9e3779b1) >>> shift;
}

export class PairTable {
  private slotEntry: Int32Array; // entry + 1 per slot, 0 = empty
  private mask: number;
  private shift: number;
  private keyA: Int32Array;
  private keyB: Uint16Array;
  private count = 0;

  constructor(expected = 16) {
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.slotEntry = new Int32Array(cap);
    this.mask = cap - 1;
    this.shift = 32 - Math.log2(cap);
    this.keyA = new Int32Array(Math.max(8, expected));
    this.keyB = new Uint16Array(Math.max(8, expected));
  }

  get size(): number {
    return this.count;
  }

  /** The first key half of an entry. */
  a(entry: number): number {
    return this.keyA[entry]!;
  }

  /** The second key half of an entry. */
  b(entry: number): number {
    return this.keyB[entry]!;
  }

  /** The entry of (a, b), or -1. */
  find(a: number, b: number): number {
    const slots = this.slotEntry;
    const mask = this.mask;
    let s = pairSlot(a, b, this.shift);
    for (;;) {
      const e = slots[s]! - 1;
      if (e < 0) return -1;
      if (this.keyA[e] === a && this.keyB[e] === b) return e;
      s = (s + 1) & mask;
    }
  }

  /** The entry of (a, b), adding it (as entry `size`) when absent; `added` tells which. */
  insert(a: number, b: number): number {
    const slots = this.slotEntry;
    const mask = this.mask;
    let s = pairSlot(a, b, this.shift);
    for (;;) {
      const e = slots[s]! - 1;
      if (e < 0) break;
      if (this.keyA[e] === a && this.keyB[e] === b) {
        this.added = false;
        return e;
      }
      s = (s + 1) & mask;
    }
    const e = this.count;
    if (e === this.keyA.length) {
      const na = new Int32Array(e * 2);
      na.set(this.keyA);
      this.keyA = na;
      const nb = new Uint16Array(e * 2);
      nb.set(this.keyB);
      this.keyB = nb;
    }
    this.keyA[e] = a;
    this.keyB[e] = b;
    this.count = e + 1;
    slots[s] = e + 1;
    if (this.count * 2 > slots.length) this.grow();
    this.added = true;
    return e;
  }

  /** Whether the last `insert` added a new entry. */
  added = false;

  /** The entries' capacity: callers size their value arrays to at least this. */
  get capacity(): number {
    return this.keyA.length;
  }

  memoryBytes(): number {
    return this.slotEntry.byteLength + this.keyA.byteLength + this.keyB.byteLength;
  }

  private grow(): void {
    const cap = this.slotEntry.length * 2;
    const slots = new Int32Array(cap);
    const mask = cap - 1;
    const shift = 32 - Math.log2(cap);
    for (let e = 0; e < this.count; e++) {
      let s = pairSlot(this.keyA[e]!, this.keyB[e]!, shift);
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = e + 1;
    }
    this.slotEntry = slots;
    this.mask = mask;
    this.shift = shift;
  }
}
