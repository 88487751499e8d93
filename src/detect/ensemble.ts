// Ensembles of detectors: per-trace scores of several detectors, each on its own scale (a mismatch rate, an LFC,
// bits of surprisal), are mapped onto a common scale fitted on NORMAL calibration scores only, then averaged.
//
// - "minmax" (the default of `eval`): (x - min) / (max - min) of the normal scores; normal scores map into [0, 1],
//   anomalies above 1, never clipped, so that how far above normal a trace is still counts. A detector that is noisy
//   on normal data has a wide range and so a small weight; one that is quiet has a narrow range and a large one: a
//   weak member cannot outvote a strong one's clear evidence, and no member saturates.
// - "rank": each score becomes its empirical CDF position among that detector's normal scores, with ties counted
//   half (mid-rank): F(x) = (#{normal < x} + #{normal <= x}) / (2n). So a score equal to every normal score (often
//   0 for stide) maps to 0.5 and anything above every normal score to 1: robust to scale and to outliers, but it
//   saturates above the largest normal score, so with few calibration traces strong and weak evidence tie.
// - "zscore": (x - mean) / sd of the normal scores (population sd).
// A detector whose normal scores are all equal (a detector quiet on every calibration trace) has no range to measure
// by. zscore takes its scale as 1 (its own units). minmax maps its normal value to 0 and anything above it to 1 plus
// the excess in its own units: above every normal score, as far as the largest normal score of a detector whose
// scores vary, and rising beyond. So a quiet detector is neither muted (scale 1 would make a rate's excess tiny)
// nor trusted without bound (no measured scale says how far its one normal value is from its next one).
//
// Fitting sorts and sums in a fixed order, so the same inputs give the same ensemble, and its JSON form restores
// an ensemble that combines identically.

import { z } from "zod";
import { HomeostatError } from "../errors.js";

export type EnsembleMethod = "rank" | "zscore" | "minmax";

export const ENSEMBLE_METHODS: readonly EnsembleMethod[] = ["rank", "zscore", "minmax"];

/** The method `eval` combines its models with unless told otherwise (docs/detectors.md, "Ensembles in eval"). */
export const DEFAULT_ENSEMBLE_METHOD: EnsembleMethod = "minmax";

/** A JSON number, or the spelling of an infinite one (JSON has none). */
type JsonScore = number | "Infinity" | "-Infinity";

export interface EnsembleModelJson {
  /** Normal scores the model's scale was fitted on. */
  n: number;
  /** rank: the normal scores sorted ascending. */
  sorted?: JsonScore[];
  /** zscore / minmax: the offset subtracted and the scale divided by. */
  offset?: number;
  scale?: number;
  /** minmax: every normal score was `offset` (the step rule applies; `scale` is then 1). */
  constant?: boolean;
}

export interface EnsembleJson {
  version: 1;
  method: EnsembleMethod;
  models: EnsembleModelJson[];
}

const jsonScore = z.union([z.number(), z.literal("Infinity"), z.literal("-Infinity")]);
const ensembleSchema = z.object({
  version: z.literal(1),
  method: z.enum(["rank", "zscore", "minmax"]),
  models: z
    .array(
      z.object({
        n: z.number().int().positive(),
        sorted: z.array(jsonScore).optional(),
        offset: z.number().optional(),
        scale: z.number().positive().optional(),
        constant: z.boolean().optional(),
      }),
    )
    .min(1),
});

function toJsonScore(x: number): JsonScore {
  if (x === Number.POSITIVE_INFINITY) return "Infinity";
  if (x === Number.NEGATIVE_INFINITY) return "-Infinity";
  return x;
}

function fromJsonScore(x: JsonScore): number {
  if (x === "Infinity") return Number.POSITIVE_INFINITY;
  if (x === "-Infinity") return Number.NEGATIVE_INFINITY;
  return x;
}

/** The mid-rank empirical CDF position of x among ascending `sorted`, in [0, 1]. */
export function midRank(sorted: Float64Array, x: number): number {
  const n = sorted.length;
  // lo = #{s < x}, hi = #{s <= x}, both by binary search.
  let lo = 0;
  let r = n;
  while (lo < r) {
    const mid = (lo + r) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else r = mid;
  }
  let hi = lo;
  r = n;
  while (hi < r) {
    const mid = (hi + r) >>> 1;
    if (sorted[mid]! <= x) hi = mid + 1;
    else r = mid;
  }
  return (lo + hi) / (2 * n);
}

interface ModelScale {
  n: number;
  sorted: Float64Array | null;
  offset: number;
  scale: number;
  /** minmax with all normal scores equal: 0 at that value, 1 + excess above it (see the header). */
  constant: boolean;
}

export class Ensemble {
  readonly method: EnsembleMethod;
  private readonly models: readonly ModelScale[];

  private constructor(method: EnsembleMethod, models: ModelScale[]) {
    this.method = method;
    this.models = models;
  }

  /** Number of detectors combined. */
  get size(): number {
    return this.models.length;
  }

  /** One detector's score on the common scale. */
  normalise(model: number, score: number): number {
    const m = this.models[model];
    if (m === undefined) throw new HomeostatError("E_USAGE", `ensemble has no model ${model}`);
    if (Number.isNaN(score)) throw new HomeostatError("E_USAGE", `score of model ${model} is NaN`);
    if (m.sorted !== null) return midRank(m.sorted, score);
    if (m.constant && score > m.offset) return 1 + (score - m.offset);
    return (score - m.offset) / m.scale;
  }

  /** Combines one trace's scores, one per detector in fitting order, into one score (their normalised mean). */
  combine(scoresByModel: ArrayLike<number>): number {
    if (scoresByModel.length !== this.models.length) {
      throw new HomeostatError(
        "E_USAGE",
        `ensemble of ${this.models.length} models given ${scoresByModel.length} scores`,
      );
    }
    let sum = 0;
    for (let i = 0; i < this.models.length; i++) sum += this.normalise(i, scoresByModel[i]!);
    return sum / this.models.length;
  }

  /** Combines many traces at once: scoresByModel[model][trace]. */
  combineMany(scoresByModel: readonly ArrayLike<number>[]): Float64Array {
    if (scoresByModel.length !== this.models.length) {
      throw new HomeostatError(
        "E_USAGE",
        `ensemble of ${this.models.length} models given scores of ${scoresByModel.length}`,
      );
    }
    const traces = scoresByModel[0]?.length ?? 0;
    for (const s of scoresByModel) {
      if (s.length !== traces) throw new HomeostatError("E_USAGE", "every model must score the same traces");
    }
    const out = new Float64Array(traces);
    const row = new Float64Array(this.models.length);
    for (let t = 0; t < traces; t++) {
      for (let m = 0; m < this.models.length; m++) row[m] = scoresByModel[m]![t]!;
      out[t] = this.combine(row);
    }
    return out;
  }

  toJSON(): EnsembleJson {
    return {
      version: 1,
      method: this.method,
      models: this.models.map((m) =>
        m.sorted !== null
          ? { n: m.n, sorted: Array.from(m.sorted, toJsonScore) }
          : { n: m.n, offset: m.offset, scale: m.scale, ...(m.constant ? { constant: true } : {}) },
      ),
    };
  }

  /** Restores an ensemble from `toJSON()` output. Throws E_VERSION or E_PARSE on anything else. */
  static fromJSON(json: unknown): Ensemble {
    if (typeof json === "object" && json !== null && "version" in json && json.version !== 1) {
      throw new HomeostatError("E_VERSION", `ensemble version ${String(json.version)} is not supported`);
    }
    const parsed = ensembleSchema.safeParse(json);
    if (!parsed.success) {
      throw new HomeostatError("E_PARSE", `bad ensemble: ${parsed.error.issues[0]?.message ?? "invalid"}`);
    }
    const { method, models } = parsed.data;
    const scales: ModelScale[] = models.map((m, i) => {
      if (method === "rank") {
        if (m.sorted === undefined || m.sorted.length !== m.n) {
          throw new HomeostatError("E_PARSE", `bad ensemble: model ${i} needs ${m.n} sorted scores`);
        }
        const sorted = Float64Array.from(m.sorted, fromJsonScore);
        for (let j = 1; j < sorted.length; j++) {
          if (sorted[j - 1]! > sorted[j]!) {
            throw new HomeostatError("E_PARSE", `bad ensemble: model ${i} scores are not sorted`);
          }
        }
        return { n: m.n, sorted, offset: 0, scale: 1, constant: false };
      }
      if (m.offset === undefined || m.scale === undefined) {
        throw new HomeostatError("E_PARSE", `bad ensemble: model ${i} needs offset and scale`);
      }
      if (m.constant === true && (method !== "minmax" || m.scale !== 1)) {
        throw new HomeostatError("E_PARSE", `bad ensemble: model ${i} is constant, which only minmax with scale 1 has`);
      }
      return { n: m.n, sorted: null, offset: m.offset, scale: m.scale, constant: m.constant === true };
    });
    return new Ensemble(method, scales);
  }

  /** Fits the per-detector scales on normal calibration scores (see fitEnsemble). */
  static fit(normalScoresByModel: readonly ArrayLike<number>[], method: EnsembleMethod): Ensemble {
    if (!ENSEMBLE_METHODS.includes(method)) {
      throw new HomeostatError("E_USAGE", `unknown ensemble method ${JSON.stringify(method)}`);
    }
    if (normalScoresByModel.length === 0) throw new HomeostatError("E_USAGE", "an ensemble needs at least one model");
    const models = normalScoresByModel.map((scores, i): ModelScale => {
      const n = scores.length;
      if (n === 0) throw new HomeostatError("E_USAGE", `model ${i} has no normal scores`);
      for (let j = 0; j < n; j++) {
        const s = scores[j]!;
        if (Number.isNaN(s) || (method !== "rank" && !Number.isFinite(s))) {
          throw new HomeostatError(
            "E_USAGE",
            `model ${i} normal score ${j} is ${s}: ${method} needs finite scores (rank accepts infinite ones)`,
          );
        }
      }
      if (method === "rank") {
        const sorted = Float64Array.from(scores);
        sorted.sort();
        return { n, sorted, offset: 0, scale: 1, constant: false };
      }
      if (method === "minmax") {
        let lo = Number.POSITIVE_INFINITY;
        let hi = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < n; j++) {
          const s = scores[j]!;
          if (s < lo) lo = s;
          if (s > hi) hi = s;
        }
        return { n, sorted: null, offset: lo, scale: hi > lo ? hi - lo : 1, constant: !(hi > lo) };
      }
      let sum = 0;
      for (let j = 0; j < n; j++) sum += scores[j]!;
      const mean = sum / n;
      let ss = 0;
      for (let j = 0; j < n; j++) {
        const d = scores[j]! - mean;
        ss += d * d;
      }
      const sd = Math.sqrt(ss / n);
      return { n, sorted: null, offset: mean, scale: sd > 0 ? sd : 1, constant: false };
    });
    return new Ensemble(method, models);
  }
}

/**
 * Fits an ensemble: normalScoresByModel[i] holds detector i's scores of normal calibration traces (not
 * necessarily the same traces for every detector). Scores later combined must come in the same detector order.
 */
export function fitEnsemble(normalScoresByModel: readonly ArrayLike<number>[], method: EnsembleMethod): Ensemble {
  return Ensemble.fit(normalScoresByModel, method);
}
