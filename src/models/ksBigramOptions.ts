// Options of the KS bigram classifier (ksBigram.ts): their defaults, help lines and validation. Why the defaults
// are what they are: docs/ks-bigram.md.

import { HomeostatError } from "../errors.js";

export type CellOrder = "benign" | "balanced" | "index";

export interface KsBigramOptions {
  /** Models per label. */
  readonly models: number;
  /** The value a model's most frequent bigram is scaled to. */
  readonly scale: number;
  /** Scaled cells below this are set to 0. */
  readonly clip: number;
  /** Closest models per label whose mean distance is compared. */
  readonly k: number;
  /** Permute each label's traces before segmenting. */
  readonly shuffle: boolean;
  /** Seed of the shuffle. */
  readonly seed: number;
  /** Order of the cells for the CDFs. */
  readonly order: CellOrder;
}

export const KS_BIGRAM_DEFAULTS: KsBigramOptions = {
  models: 40,
  scale: 1000,
  clip: 1,
  k: 3,
  shuffle: false,
  seed: 1,
  order: "benign",
};

/** Cell orders by the code a stored model holds: the index is part of the format, so only append. */
export const CELL_ORDER_CODES: readonly CellOrder[] = ["benign", "balanced", "index"];

export const ksBigramOptionHelp: Readonly<
  Record<keyof KsBigramOptions, { default: number | string | boolean; help: string }>
> = {
  models: {
    default: KS_BIGRAM_DEFAULTS.models,
    help: "models per label, cut from contiguous equal segments of its data",
  },
  scale: { default: KS_BIGRAM_DEFAULTS.scale, help: "value a model's most frequent bigram is scaled to" },
  clip: { default: KS_BIGRAM_DEFAULTS.clip, help: "scaled bigram values below this are clipped to 0" },
  k: { default: KS_BIGRAM_DEFAULTS.k, help: "closest models per label whose mean KS distance is compared" },
  shuffle: {
    default: KS_BIGRAM_DEFAULTS.shuffle,
    help: "shuffle each label's traces (seeded) before segmenting",
  },
  seed: { default: KS_BIGRAM_DEFAULTS.seed, help: "seed of the shuffle" },
  order: {
    default: KS_BIGRAM_DEFAULTS.order,
    help: "cell order of the CDFs: benign (benign frequency), balanced (mean label frequency) or index",
  },
};

/** Validates options (from code or the command line) and fills the defaults. Throws E_USAGE. */
export function resolveKsBigramOptions(
  partial: Partial<Record<string, number | string | boolean>> = {},
): KsBigramOptions {
  for (const key of Object.keys(partial)) {
    if (!(key in KS_BIGRAM_DEFAULTS)) throw usage(`unknown ksbigram option "${key}"`);
  }
  const num = (key: keyof KsBigramOptions): number => {
    const v = partial[key] ?? KS_BIGRAM_DEFAULTS[key];
    if (typeof v !== "number" || !Number.isFinite(v)) throw usage(`ksbigram option ${key} must be a finite number`);
    return v;
  };
  const models = num("models");
  const scale = num("scale");
  const clip = num("clip");
  const k = num("k");
  const seed = num("seed");
  const shuffle = partial.shuffle ?? KS_BIGRAM_DEFAULTS.shuffle;
  const order = partial.order ?? KS_BIGRAM_DEFAULTS.order;
  if (!Number.isInteger(models) || models < 1) throw usage("ksbigram option models must be an integer >= 1");
  if (!(scale > 0)) throw usage("ksbigram option scale must be > 0");
  // clip <= scale keeps every model's top cell, so no model is ever empty.
  if (!(clip >= 0) || clip > scale) throw usage("ksbigram option clip must be in 0..scale");
  if (!Number.isInteger(k) || k < 1 || k > models) throw usage("ksbigram option k must be an integer in 1..models");
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw usage("ksbigram option seed must be an integer in 0..4294967295");
  }
  if (typeof shuffle !== "boolean") throw usage("ksbigram option shuffle must be true or false");
  if (typeof order !== "string" || !CELL_ORDER_CODES.includes(order as CellOrder)) {
    throw usage(`ksbigram option order must be one of ${CELL_ORDER_CODES.join(", ")}`);
  }
  return { models, scale, clip, k, shuffle, seed, order: order as CellOrder };
}

function usage(message: string): HomeostatError {
  return new HomeostatError("E_USAGE", message);
}
