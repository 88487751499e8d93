// Detector options: filling defaults from a factory's optionHelp, checking types and ranges, and comparing two
// detectors' options before a merge. Options are flat scalars (detector.ts), so a key and its type are the whole
// schema (with a number's range); a wrong option is a usage error (E_USAGE), since options come from the command
// line or a model spec.

import { HomeostatError } from "../errors.js";
import type { DetectorFactory, DetectorOptions } from "./detector.js";
import { describeRange, inRange, type NumberRule } from "./numberText.js";

type OptionValue = number | string | boolean;

/** The range of a whole-number option: decimal digits only in a spec. */
export function integerRange(min: number, max: number): NumberRule {
  return { min, max };
}

/**
 * The range of a real-number option: decimal notation or an exponent in a spec, since a spec printed from a small
 * real (`String(1e-7)` is "1e-7") must parse back.
 */
export function realRange(
  min: number,
  max: number,
  bounds: { minExclusive?: boolean; maxExclusive?: boolean } = {},
): NumberRule {
  return { min, max, fraction: true, exponent: true, ...bounds };
}

/** `value` as a number option of `rule`, or E_USAGE: `option stide.k must be an integer from 2 to 256, not 1000`. */
export function checkNumberOption(kind: string, key: string, value: unknown, rule: NumberRule): number {
  const ok =
    typeof value === "number" &&
    Number.isFinite(value) &&
    (rule.fraction === true || Number.isSafeInteger(value)) &&
    inRange(value, rule);
  if (!ok) {
    throw new HomeostatError(
      "E_USAGE",
      `option ${kind}.${key} must be ${describeRange(rule)}, not ${typeof value === "string" ? JSON.stringify(value) : String(value)}`,
    );
  }
  return value;
}

/**
 * Every option of a factory with its default filled in; unknown keys, wrongly typed values and numbers outside
 * their range are E_USAGE.
 */
export function resolveOptions(
  kind: string,
  optionHelp: DetectorFactory["optionHelp"],
  given: Partial<Record<string, OptionValue>> = {},
): Record<string, OptionValue> {
  const out: Record<string, OptionValue> = {};
  for (const [key, help] of Object.entries(optionHelp)) out[key] = help.default;
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined) continue;
    const help = optionHelp[key];
    if (help === undefined) {
      const known = Object.keys(optionHelp).join(", ") || "none";
      throw new HomeostatError("E_USAGE", `model ${kind} has no option "${key}" (options: ${known})`);
    }
    if (typeof value !== typeof help.default) {
      throw new HomeostatError(
        "E_USAGE",
        `option ${kind}.${key} must be a ${typeof help.default}, not ${JSON.stringify(value)}`,
      );
    }
    if ("range" in help) checkNumberOption(kind, key, value, help.range);
    out[key] = value;
  }
  return out;
}

/** The number option `key` of resolved options, checked against its range (options may also come from a file). */
export function numberOption(kind: string, options: DetectorOptions, key: string, rule: NumberRule): number {
  return checkNumberOption(kind, key, options[key], rule);
}

/** Whether two option sets are the same (same keys, same values). */
export function sameOptions(a: DetectorOptions, b: DetectorOptions): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const key of ka) if (!Object.is(a[key], b[key])) return false;
  return true;
}

/** Throws E_MODEL unless `other` is a detector of the same kind and options (the precondition of merge). */
export function checkMergeable(
  self: { kind: string; options: DetectorOptions },
  other: { kind: string; options: DetectorOptions },
): void {
  if (other.kind !== self.kind) {
    throw new HomeostatError("E_MODEL", `cannot merge a ${other.kind} model into a ${self.kind} model`);
  }
  if (!sameOptions(self.options, other.options)) {
    throw new HomeostatError(
      "E_MODEL",
      `cannot merge ${self.kind} models with different options ` +
        `(${JSON.stringify(self.options)} vs ${JSON.stringify(other.options)})`,
    );
  }
}
