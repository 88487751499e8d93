// Metrics ready for JSON. The metric functions return NaN where a rate is undefined (a zero denominator) and
// ROC thresholds can be +/-Infinity; JSON has no such numbers (JSON.stringify would write null silently, and
// other writers fail), so reports convert explicitly: every non-finite number becomes null, and typed arrays
// become plain arrays.

/** The JSON form of T: numbers may become null, typed arrays become arrays. */
export type JsonSafe<T> = T extends number
  ? number | null
  : T extends string | boolean | null | undefined
    ? T
    : T extends ArrayLike<number> & { BYTES_PER_ELEMENT: number }
      ? (number | null)[]
      : T extends readonly (infer U)[]
        ? JsonSafe<U>[]
        : T extends object
          ? { [K in keyof T]: JsonSafe<T[K]> }
          : T;

/** A deep copy with NaN and +/-Infinity replaced by null and typed arrays by arrays. */
export function toJsonSafe<T>(value: T): JsonSafe<T> {
  return convert(value) as JsonSafe<T>;
}

function convert(value: unknown): unknown {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (value === null || typeof value !== "object") return value;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number>, (x) => convert(x));
  }
  if (Array.isArray(value)) return value.map(convert);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = convert(v);
  return out;
}
