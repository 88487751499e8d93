// The conformance suite every detector must pass (as hono's routers share one test suite): determinism, the
// serialise round trip (a damaged payload is exactly E_PARSE, another format version exactly E_VERSION), merge ==
// training on the union, incremental training, streaming step == scoreTrace, short and empty traces, per-stream
// isolation and state reset, and ids beyond the training vocabulary. It runs on synthetic Markov-chain traces and,
// when the dataset is present, on real ADFA-LD traces. Used only by tests: `detectorConformance(factory,
// { options })` registers vitest blocks inside the calling test file. A kind that is derived rather than trained
// (the static model) gives `derive`; the checks of training are then replaced by one that train() refuses, and
// every other check runs on derived detectors. The groups of cases are in the conformance*.ts files beside this.

import { describe } from "vitest";
import type { DetectorFactory } from "../detector.js";
import { conformanceContext, type ConformanceOptions } from "./conformanceContext.js";
import { contractCases } from "./conformanceContract.js";
import { mergeCases } from "./conformanceMerge.js";
import { persistenceCases } from "./conformancePersistence.js";
import { adfaSets, syntheticSets, type TraceSets } from "./conformanceSets.js";
import { streamCases } from "./conformanceStreams.js";
import { trainingCases } from "./conformanceTraining.js";
import { adfaMissingReason } from "./traces.js";

export type { ConformanceOptions } from "./conformanceContext.js";

/** Registers the conformance checks for one detector kind and option set. */
export function detectorConformance(factory: DetectorFactory, conf: ConformanceOptions = {}): void {
  const ctx = conformanceContext(factory, conf);
  const label = ctx.label;

  describe(`${label}: conformance`, () => {
    contractCases(ctx);

    const sets: (() => TraceSets)[] = [syntheticSets];
    if (conf.adfa !== false) sets.push(adfaSets);
    const adfaReason = adfaMissingReason();

    for (const getSets of sets) {
      const isAdfa = getSets === adfaSets;
      const name = isAdfa ? "ADFA-LD traces" : "synthetic traces";
      const skip = isAdfa && adfaReason !== undefined;
      if (skip) {
        console.log(`skipping ${label} conformance on ADFA-LD: ${adfaReason}`);
      }

      describe.skipIf(skip)(name, () => {
        trainingCases(ctx, getSets);
        persistenceCases(ctx, getSets);
        streamCases(ctx, getSets);
        mergeCases(ctx, getSets);
      });
    }
  });
}
