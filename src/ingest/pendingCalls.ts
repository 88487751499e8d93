// The calls of an strace trace that started (`<unfinished ...>`) and wait for their `<... resumed>` half, keyed by
// stream: a thread is in at most one system call, so there is one entry per stream. See docs/strace-format.md for
// how such calls are counted.

/** Slot of a key before probing (Fibonacci hashing). */
function home(key: number, mask: number): number {
  return (Math.imul(key, 0x9e3779b1) >>> 0) & mask;
}

/**
 * Open addressing with linear probing and backward-shift deletion, in parallel typed arrays: this table is looked
 * up on every call line of a multi-threaded trace, so a lookup touches a few array slots and allocates nothing.
 * The fields of an entry are read and written by slot (`sys[slot]`...), valid until the next insert or remove.
 */
export class PendingTable {
  count = 0;
  private cap = 64;
  used = new Uint8Array(64);
  key = new Int32Array(64);
  /** The call's vocabulary id. */
  sys = new Int32Array(64);
  /** When the call started. */
  time = new Float64Array(64);
  /** Start order, for settling unresumed calls in the order they started. */
  seq = new Float64Array(64);
  /** The argument text so far (keepArgs only). */
  args: (string | undefined)[] = new Array<string | undefined>(64);
  /** An execve's program path (null: not printed), undefined for other calls. */
  exec: (string | null | undefined)[] = new Array<string | null | undefined>(64);

  /** The slot of `key`, or -1. */
  find(key: number): number {
    const mask = this.cap - 1;
    let slot = home(key, mask);
    while (this.used[slot] === 1) {
      if (this.key[slot] === key) return slot;
      slot = (slot + 1) & mask;
    }
    return -1;
  }

  /** Adds an entry for a key that is not present; returns its slot. */
  insert(key: number): number {
    if ((this.count + 1) * 2 > this.cap) this.grow();
    const mask = this.cap - 1;
    let slot = home(key, mask);
    while (this.used[slot] === 1) slot = (slot + 1) & mask;
    this.used[slot] = 1;
    this.key[slot] = key;
    this.args[slot] = undefined;
    this.exec[slot] = undefined;
    this.count++;
    return slot;
  }

  remove(slot: number): void {
    const mask = this.cap - 1;
    this.used[slot] = 0;
    this.args[slot] = undefined;
    this.exec[slot] = undefined;
    this.count--;
    let hole = slot;
    let j = (slot + 1) & mask;
    while (this.used[j] === 1) {
      const h = home(this.key[j]!, mask);
      // Move j into the hole when its home is not cyclically within (hole, j].
      const inRange = hole <= j ? h > hole && h <= j : h > hole || h <= j;
      if (!inRange) {
        this.move(j, hole);
        hole = j;
      }
      j = (j + 1) & mask;
    }
  }

  /** Moves the entry at `slot` to a key that is not present; returns its new slot. */
  rekey(slot: number, key: number): number {
    const sys = this.sys[slot]!;
    const time = this.time[slot]!;
    const seq = this.seq[slot]!;
    const args = this.args[slot];
    const exec = this.exec[slot];
    this.remove(slot);
    const moved = this.insert(key);
    this.sys[moved] = sys;
    this.time[moved] = time;
    this.seq[moved] = seq;
    this.args[moved] = args;
    this.exec[moved] = exec;
    return moved;
  }

  /** The keys of all entries, in the order their calls started. */
  keysInOrder(): number[] {
    const slots: number[] = [];
    for (let i = 0; i < this.cap; i++) if (this.used[i] === 1) slots.push(i);
    slots.sort((a, b) => this.seq[a]! - this.seq[b]!);
    return slots.map((slot) => this.key[slot]!);
  }

  private move(from: number, to: number): void {
    this.used[to] = 1;
    this.key[to] = this.key[from]!;
    this.sys[to] = this.sys[from]!;
    this.time[to] = this.time[from]!;
    this.seq[to] = this.seq[from]!;
    this.args[to] = this.args[from];
    this.exec[to] = this.exec[from];
    this.used[from] = 0;
    this.args[from] = undefined;
    this.exec[from] = undefined;
  }

  private grow(): void {
    const old = {
      used: this.used,
      key: this.key,
      sys: this.sys,
      time: this.time,
      seq: this.seq,
      args: this.args,
      exec: this.exec,
    };
    const cap = this.cap * 2;
    this.cap = cap;
    this.used = new Uint8Array(cap);
    this.key = new Int32Array(cap);
    this.sys = new Int32Array(cap);
    this.time = new Float64Array(cap);
    this.seq = new Float64Array(cap);
    this.args = new Array<string | undefined>(cap);
    this.exec = new Array<string | null | undefined>(cap);
    this.count = 0;
    for (let i = 0; i < old.used.length; i++) {
      if (old.used[i] !== 1) continue;
      const s = this.insert(old.key[i]!);
      this.sys[s] = old.sys[i]!;
      this.time[s] = old.time[i]!;
      this.seq[s] = old.seq[i]!;
      this.args[s] = old.args[i];
      this.exec[s] = old.exec[i];
    }
  }
}
