// Every program's scenario, in the order a build records them and the manifest lists them. tar, find, awk and
// sqlite3 are deliberately not here: they are kept out of the benchmark for a held-out check.

import { HomeostatError } from "../errors.js";
import { gitScenario } from "./gitScenario.js";
import { kvserverScenario } from "./kvserverScenario.js";
import { makeGccScenario } from "./makeGccScenario.js";
import { nginxScenario } from "./nginxScenario.js";
import { opensslScenario } from "./opensslScenario.js";
import { perlScenario } from "./perlScenario.js";
import { pythonHttpScenario } from "./pythonHttpScenario.js";
import type { Scenario } from "./types.js";

export const SCENARIOS: readonly Scenario[] = [
  nginxScenario,
  pythonHttpScenario,
  gitScenario,
  makeGccScenario,
  perlScenario,
  opensslScenario,
  kvserverScenario,
];

export const SCENARIO_NAMES: readonly string[] = SCENARIOS.map((s) => s.name);

/** The named scenarios (all without names), in registry order; E_USAGE naming an unknown one. */
export function selectScenarios(names?: readonly string[]): Scenario[] {
  if (names === undefined || names.length === 0) return [...SCENARIOS];
  const unknown = names.filter((n) => !SCENARIO_NAMES.includes(n));
  if (unknown.length > 0) {
    throw new HomeostatError(
      "E_USAGE",
      `unknown program${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}: one of ${SCENARIO_NAMES.join(", ")}`,
    );
  }
  return SCENARIOS.filter((s) => names.includes(s.name));
}
