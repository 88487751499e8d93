// How big a scenarios build is: recordings per split and normal actions per recording, for each named size.
// `default` is the benchmark (every program together in well under ten minutes on a two-core machine); `small` is
// for tests and trying things out (seconds per program); `large` has three times the training recordings and twice
// the test recordings of `default`, for finer and steadier per-program figures (an AUC over 5 x 6 recordings moves
// in steps of 1/30). The list of recordings of one program follows from a size and the build's seed alone
// (recordingSpecs), in the LID-DS 2021 order of splits; each recording's plan depends on its index, not on the
// size, so a larger size extends a smaller one.

import { HomeostatError } from "../errors.js";
import { deriveSeed } from "./planning.js";
import type { RecordingSpec, Scenario, Split } from "./types.js";

export interface ScenarioSize {
  training: number;
  validation: number;
  testNormal: number;
  testAttack: number;
  /** Normal actions per recording, as a fraction of each scenario's default. */
  actionScale: number;
}

export const SIZES = {
  small: { training: 2, validation: 1, testNormal: 1, testAttack: 1, actionScale: 0.3 },
  default: { training: 10, validation: 3, testNormal: 5, testAttack: 6, actionScale: 1 },
  large: { training: 30, validation: 6, testNormal: 10, testAttack: 12, actionScale: 1 },
} as const satisfies Record<string, ScenarioSize>;

export type SizeName = keyof typeof SIZES;
export const SIZE_NAMES = Object.keys(SIZES) as SizeName[];

export function sizeByName(name: string): ScenarioSize {
  if (!(SIZE_NAMES as string[]).includes(name)) {
    throw new HomeostatError("E_USAGE", `unknown size "${name}": one of ${SIZE_NAMES.join(", ")}`);
  }
  return SIZES[name as SizeName];
}

/** Fewer actions never go below 6, so that an attack has normal actions around it. */
export function actionsPerRecording(scenario: Pick<Scenario, "defaultActions">, size: ScenarioSize): number {
  return Math.max(6, Math.round(scenario.defaultActions * size.actionScale));
}

const TAGS: Record<Split, string> = {
  training: "train",
  validation: "val",
  "test/normal": "normal",
  "test/normal_and_attack": "attack",
};

/** Every recording of one program, in split order; attack recordings cycle through the scenario's attack kinds. */
export function recordingSpecs(
  scenario: Pick<Scenario, "name" | "attacks" | "defaultActions">,
  seed: number,
  size: ScenarioSize,
): RecordingSpec[] {
  const counts: [Split, number][] = [
    ["training", size.training],
    ["validation", size.validation],
    ["test/normal", size.testNormal],
    ["test/normal_and_attack", size.testAttack],
  ];
  const actions = actionsPerRecording(scenario, size);
  const specs: RecordingSpec[] = [];
  for (const [split, n] of counts) {
    for (let index = 0; index < n; index++) {
      const spec: RecordingSpec = {
        program: scenario.name,
        split,
        index,
        name: `${scenario.name}-${TAGS[split]}-${String(index + 1).padStart(3, "0")}`,
        seed: deriveSeed(seed, scenario.name, split, index),
        actions,
      };
      if (split === "test/normal_and_attack") spec.attack = scenario.attacks[index % scenario.attacks.length]!;
      specs.push(spec);
    }
  }
  return specs;
}
