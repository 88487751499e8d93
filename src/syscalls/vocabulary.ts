// The vocabulary: maps syscall tokens to dense small integers so that traces are typed arrays and every model's
// hot loop works on numbers (Forrest et al. 1996 already treated calls as an alphabet of symbols).
//
// Tokens are strings: a syscall name ("read"), `syscall_<n>` for a number an ABI table does not know, or an opaque
// symbol `#<n>` for data whose numbering is unknown (UNM). Ids are given in order of first appearance, are stable
// for the life of a vocabulary, and fit in 16 bits. A model remembers the vocabulary size it was trained with:
// ids added later are, by construction, calls it has never seen.
//
// Parsers intern tokens straight from input bytes (`internBytes`) through an open-addressing hash table, so the
// hot path allocates nothing for a token it has seen before.

import { HomeostatError } from "../errors.js";

/** The largest number of distinct tokens: ids are stored in Uint16Array traces. */
export const MAX_VOCABULARY = 65_535;

export class Vocabulary {
  private readonly tokens: string[] = [];
  private readonly byString = new Map<string, number>();
  // Byte-keyed open addressing: slot -> id + 1 (0 = empty). Token bytes live in `pool` at offsets/lengths per id.
  private slots: Int32Array = new Int32Array(1024);
  private hashes: Uint32Array = new Uint32Array(1024);
  private pool: Uint8Array = new Uint8Array(4096);
  private poolUsed = 0;
  private offsets: Int32Array = new Int32Array(256);
  private lengths: Int32Array = new Int32Array(256);

  constructor(tokens: Iterable<string> = []) {
    for (const t of tokens) this.intern(t);
  }

  get size(): number {
    return this.tokens.length;
  }

  /** The id of a token, adding it when new. */
  intern(token: string): number {
    const found = this.byString.get(token);
    if (found !== undefined) return found;
    return this.add(token, Buffer.from(token, "utf8"));
  }

  /** The id of a token, or -1 when it is not in the vocabulary (never adds). */
  lookup(token: string): number {
    return this.byString.get(token) ?? -1;
  }

  /** The id of the token spelled by bytes[start, end), adding it when new. Allocation-free when seen before. */
  internBytes(bytes: Uint8Array, start: number, end: number): number {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) {
      h ^= bytes[i]!;
      h = Math.imul(h, 0x01000193);
    }
    h >>>= 0;
    const mask = this.slots.length - 1;
    const len = end - start;
    let slot = h & mask;
    for (;;) {
      const v = this.slots[slot]!;
      if (v === 0) break;
      if (this.hashes[slot] === h) {
        const id = v - 1;
        if (this.lengths[id] === len) {
          const off = this.offsets[id]!;
          let same = true;
          for (let i = 0; i < len; i++) {
            if (this.pool[off + i] !== bytes[start + i]) {
              same = false;
              break;
            }
          }
          if (same) return id;
        }
      }
      slot = (slot + 1) & mask;
    }
    const token = Buffer.from(bytes.buffer, bytes.byteOffset + start, len).toString("utf8");
    const existing = this.byString.get(token);
    // A token first interned as a string whose UTF-8 bytes differ (invalid UTF-8 input) gets its own byte key.
    if (existing !== undefined) {
      this.indexBytes(existing, bytes.subarray(start, end), h);
      return existing;
    }
    return this.add(token, bytes.subarray(start, end), h);
  }

  /** The token of an id. */
  token(id: number): string {
    const t = this.tokens[id];
    if (t === undefined) throw new HomeostatError("E_VOCAB", `syscall id ${id} is not in the vocabulary`);
    return t;
  }

  /** All tokens in id order (a copy). */
  toArray(): string[] {
    return this.tokens.slice();
  }

  /** Ids of `other`'s tokens in this vocabulary (interning the missing ones), indexed by other's ids. */
  mapFrom(other: Vocabulary): Uint16Array {
    const map = new Uint16Array(other.size);
    for (let i = 0; i < other.size; i++) map[i] = this.intern(other.token(i));
    return map;
  }

  private add(token: string, bytes: Uint8Array, hash?: number): number {
    const id = this.tokens.length;
    if (id >= MAX_VOCABULARY) {
      throw new HomeostatError(
        "E_VOCAB",
        `more than ${MAX_VOCABULARY} distinct syscall tokens: this input is not a syscall trace`,
      );
    }
    this.tokens.push(token);
    this.byString.set(token, id);
    this.indexBytes(id, bytes, hash ?? fnv1a(bytes));
    return id;
  }

  private indexBytes(id: number, bytes: Uint8Array, h: number): void {
    if (id >= this.offsets.length) {
      this.offsets = grow(this.offsets, this.offsets.length * 2);
      this.lengths = grow(this.lengths, this.lengths.length * 2);
    }
    if (this.poolUsed + bytes.length > this.pool.length) {
      const next = new Uint8Array(Math.max(this.pool.length * 2, this.poolUsed + bytes.length));
      next.set(this.pool.subarray(0, this.poolUsed));
      this.pool = next;
    }
    // Only the first byte spelling of an id is stored for comparison; other spellings are found by hash + compare
    // against their own copy, so store each spelling as its own pool entry keyed to the same id.
    if (this.lengths[id] !== 0 || this.offsets[id] !== 0) {
      // An id with a second spelling: rare (invalid UTF-8). Fall back to string interning for it.
      return;
    }
    this.offsets[id] = this.poolUsed;
    this.lengths[id] = bytes.length;
    this.pool.set(bytes, this.poolUsed);
    this.poolUsed += bytes.length;
    if ((this.tokens.length + 1) * 2 > this.slots.length) this.rehash();
    const mask = this.slots.length - 1;
    let slot = h & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = id + 1;
    this.hashes[slot] = h;
  }

  private rehash(): void {
    const oldSlots = this.slots;
    const oldHashes = this.hashes;
    this.slots = new Int32Array(oldSlots.length * 2);
    this.hashes = new Uint32Array(oldSlots.length * 2);
    const mask = this.slots.length - 1;
    for (let i = 0; i < oldSlots.length; i++) {
      const v = oldSlots[i]!;
      if (v === 0) continue;
      let slot = oldHashes[i]! & mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
      this.slots[slot] = v;
      this.hashes[slot] = oldHashes[i]!;
    }
  }
}

function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function grow(a: Int32Array, n: number): Int32Array {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

/** The token for a number that an ABI table does not name. */
export function unknownSyscallToken(n: number): string {
  return `syscall_${n}`;
}

/** The token for a symbol whose numbering is unknown (UNM data). */
export function opaqueToken(n: number): string {
  return `#${n}`;
}
