// Typed arrays that grow as values are appended, for building a summary's tables without a JS array of boxed or
// tagged values per element: the builder's memory stays proportional to the summary it makes.

type Typed = Int32Array | Uint32Array | Float64Array | Uint8Array;

export class GrowableArray<T extends Typed> {
  private data: T;
  length = 0;

  constructor(private readonly make: (length: number) => T) {
    this.data = make(16);
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = this.make(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  /**
   * The values pushed. A view when they fill most of the storage: a copy of a large table would double what the
   * builder holds at its peak, for at most a quarter of the storage saved.
   */
  finish(): T {
    const full = this.length >= (this.data.length * 3) / 4;
    return (full ? this.data.subarray(0, this.length) : this.data.slice(0, this.length)) as T;
  }
}

export const int32s = (): GrowableArray<Int32Array> => new GrowableArray((n) => new Int32Array(n));
export const uint32s = (): GrowableArray<Uint32Array> => new GrowableArray((n) => new Uint32Array(n));
export const float64s = (): GrowableArray<Float64Array> => new GrowableArray((n) => new Float64Array(n));
export const uint8s = (): GrowableArray<Uint8Array> => new GrowableArray((n) => new Uint8Array(n));
