// Detector options: filling defaults from a factory's optionHelp, checking types and ranges, and comparing two
// detectors' options before a merge. Options are flat scalars (detector.ts), so a key and its type are the whole
// schema; a wrong option is a usage error (E_USAGE), since options come from the command line or a model spec.

import { HomeostatError } from "../errors.js";
import type { DetectorFactory, DetectorOptions } from "./detector.js";

type OptionValue = number | string | boolean;

/** Every option of a factory with its default filled in; unknown keys and wrongly typed values are E_USAGE. */
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
    out[key] = value;
  }
  return out;
}

/** A whole-number option within [min, max]. */
export function integerOption(kind: string, options: DetectorOptions, key: string, min: number, max: number): number {
  const v = options[key];
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new HomeostatError("E_USAGE", `option ${kind}.${key} must be a whole number from ${min} to ${max}, not ${v}`);
  }
  return v;
}

/** A real-number option within [min, max]. */
export function realOption(kind: string, options: DetectorOptions, key: string, min: number, max: number): number {
  const v = options[key];
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
    throw new HomeostatError("E_USAGE", `option ${kind}.${key} must be a number from ${min} to ${max}, not ${v}`);
  }
  return v;
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
