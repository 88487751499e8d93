// The registry of detector kinds, and model specs: the one-line spelling of a kind and its options that the CLI
// and profiles use, `name:key=value,key=value` (e.g. `stide:k=6`, `tstide:k=6,threshold=0.00001`). Values are typed
// by the option's default (number, boolean or string), so a spec means the same as the options object it prints.
// Numbers are parsed strictly, by the rule the command line's numbers follow (numberText.ts): `stide:k=1e3`,
// `k=0x10` and `k=` are usage errors, and every number has its option's explicit range.

import { HomeostatError } from "../errors.js";
import type { Detector, DetectorFactory, DetectorOptions, OptionHelp } from "./detector.js";
import { resolveOptions } from "./detectorOptions.js";
import { parseNumberText } from "./numberText.js";
import { hmmFactory } from "./hmm.js";
import { lookaheadPairsFactory } from "./lookaheadPairs.js";
import { ngramFactory } from "./ngram.js";
import { sequenceCoverFactory } from "./sequenceCover.js";
import { staticCallsFactory } from "./staticCalls.js";
import { stideFactory } from "./stide.js";
import { tStideFactory } from "./tStide.js";

/** Every detector kind by name. Adding a model is one line here. */
export const DETECTORS: Readonly<Record<string, DetectorFactory>> = Object.freeze({
  stide: stideFactory,
  tstide: tStideFactory,
  lookahead: lookaheadPairsFactory,
  ngram: ngramFactory,
  hmm: hmmFactory,
  static: staticCallsFactory,
  cover: sequenceCoverFactory,
});

/** A kind and its options, as parsed from a model spec. */
export interface ModelSpec {
  kind: string;
  options: Record<string, number | string | boolean>;
}

/** The factory of a kind; an unknown kind is E_MODEL (stored data or code naming a model this build lacks). */
export function detectorFactory(kind: string): DetectorFactory {
  const factory = Object.hasOwn(DETECTORS, kind) ? DETECTORS[kind] : undefined;
  if (factory === undefined) {
    throw new HomeostatError("E_MODEL", `unknown model kind "${kind}" (known: ${Object.keys(DETECTORS).join(", ")})`);
  }
  return factory;
}

/** A new, untrained detector of a kind. */
export function createDetector(
  kind: string,
  options: Partial<Record<string, number | string | boolean>> = {},
): Detector {
  return detectorFactory(kind).create(options);
}

/**
 * Parses `name` or `name:key=value,key=value`. Unknown kinds, unknown or repeated keys and values that do not
 * fit the option's type are E_USAGE. The options returned have every default filled in.
 */
export function parseModelSpec(spec: string): ModelSpec {
  const text = spec.trim();
  const colon = text.indexOf(":");
  const kind = (colon < 0 ? text : text.slice(0, colon)).trim();
  const factory = Object.hasOwn(DETECTORS, kind) ? DETECTORS[kind] : undefined;
  if (factory === undefined) {
    throw new HomeostatError(
      "E_USAGE",
      `unknown model "${kind}" in ${JSON.stringify(spec)} (known: ${Object.keys(DETECTORS).join(", ")})`,
    );
  }
  const given: Record<string, number | string | boolean> = {};
  const rest = colon < 0 ? "" : text.slice(colon + 1).trim();
  if (rest.length > 0) {
    for (const part of rest.split(",")) {
      const eq = part.indexOf("=");
      const key = (eq < 0 ? part : part.slice(0, eq)).trim();
      if (eq < 0 || key.length === 0) {
        throw new HomeostatError(
          "E_USAGE",
          `expected key=value, got ${JSON.stringify(part)} in model spec ${JSON.stringify(spec)}`,
        );
      }
      const raw = part.slice(eq + 1).trim();
      const help = Object.hasOwn(factory.optionHelp, key) ? factory.optionHelp[key] : undefined;
      if (help === undefined) {
        const known = Object.keys(factory.optionHelp).join(", ") || "none";
        throw new HomeostatError("E_USAGE", `model ${kind} has no option "${key}" (options: ${known})`);
      }
      if (Object.hasOwn(given, key)) {
        throw new HomeostatError("E_USAGE", `option "${key}" given twice in model spec ${JSON.stringify(spec)}`);
      }
      given[key] = typedValue(kind, key, raw, help);
    }
  }
  return { kind, options: resolveOptions(kind, factory.optionHelp, given) };
}

function typedValue(kind: string, key: string, raw: string, help: OptionHelp): number | string | boolean {
  if ("range" in help) return parseNumberText(raw, help.range, `option ${kind}.${key}`);
  if (typeof help.default === "boolean") {
    if (raw === "true" || raw === "1" || raw === "yes") return true;
    if (raw === "false" || raw === "0" || raw === "no") return false;
    throw new HomeostatError("E_USAGE", `option ${kind}.${key} must be true or false, not ${JSON.stringify(raw)}`);
  }
  return raw;
}

/** The spec of a kind and options: options in the factory's order, then any others sorted, as `kind:k=v,...`. */
export function formatModelSpec(kind: string, options: DetectorOptions = {}): string {
  const order = Object.hasOwn(DETECTORS, kind) ? Object.keys(DETECTORS[kind]!.optionHelp) : [];
  const keys = [
    ...order.filter((k) => Object.hasOwn(options, k)),
    ...Object.keys(options)
      .filter((k) => !order.includes(k))
      .sort(),
  ];
  const parts = keys.map((k) => `${k}=${String(options[k])}`);
  return parts.length === 0 ? kind : `${kind}:${parts.join(",")}`;
}
