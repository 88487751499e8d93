// The shared vocabulary of the scenarios benchmark (`homeostat scenarios build`): splits and recording specs in the
// LID-DS 2021 layout (training, validation, test/normal, test/normal_and_attack), the plan of one recording (seeded
// normal actions, and for an attack recording one attack burst at a planned position), and the interface every
// program's scenario implements. A plan is pure data: the same seed gives the same plan, whatever the timing.

import type { ProcessGroups } from "./processGroups.js";

/** The LID-DS 2021 split folders, relative to a program's folder. */
export const SPLITS = ["training", "validation", "test/normal", "test/normal_and_attack"] as const;
export type Split = (typeof SPLITS)[number];

/** Which recording of which program: everything a plan is drawn from. */
export interface RecordingSpec {
  program: string;
  split: Split;
  /** 0-based within its split. */
  index: number;
  /** The recording's file stem, e.g. `git-train-003`. */
  name: string;
  /** This recording's own seed, derived from the build's seed, the program, the split and the index. */
  seed: number;
  /** Normal actions in the recording (the attack, when there is one, comes on top). */
  actions: number;
  /** The attack kind of a test/normal_and_attack recording. */
  attack?: string;
}

/** An attack burst: its kind, and how many normal actions run before it. */
export interface PlannedAttack {
  kind: string;
  /** Index into the actions: the attack runs after actions[0..at-1] and before actions[at]. */
  at: number;
}

/** The seeded plan of one recording. `A` is the program's own action type (JSON-safe data). */
export interface RecordingPlan<A> {
  seed: number;
  actions: A[];
  attack?: PlannedAttack;
}

/** What a scenario reports about a run attack, for the sidecar: the command and the evidence that it worked. */
export interface AttackReport {
  kind: string;
  /** Epoch seconds (realtime clock) taken just before the attack's first action. */
  time: number;
  command: string;
  /** What was checked, e.g. `proof file holds uid=0(root)`, `reverse shell answered uid=...`. */
  evidence: string;
  /** Whether the attack changes the program's control flow, or only the data it reads or writes. */
  dataOnly: boolean;
}

/** What running one recording produced (the .strace file is at the path the runner gave). */
export interface RecordedRun {
  /** Epoch seconds when the traced program was started and when it ended. */
  started: number;
  ended: number;
  attack?: AttackReport;
}

/** Where a recording goes and what it may use while it runs. */
export interface RecordingTarget {
  /** The .strace file strace writes. */
  tracePath: string;
  /** A fresh scratch folder for this recording only (outside the output folder). */
  workDir: string;
  /** Where every process of the recording is registered (a child of the build's registry). */
  groups: ProcessGroups;
}

/** A program's scenario. Methods (not function properties), so that a Scenario<A> is a Scenario<unknown>. */
export interface Scenario<A = unknown> {
  readonly name: string;
  /** The attack kinds, in the order attack recordings cycle through them. */
  readonly attacks: readonly string[];
  /** Attack kinds that change only data, not control flow (may be invisible to sequence models). */
  readonly dataOnlyAttacks: readonly string[];
  /** Normal actions per recording at the default size. */
  readonly defaultActions: number;
  /** Why this program cannot be recorded on this machine, or undefined when it can. */
  unavailable(): string | undefined;
  /** The program and its version, e.g. `nginx/1.22.1` (LID-DS's `image`). */
  image(): string;
  /** The plan of one recording: a pure function of the spec. */
  plan(spec: RecordingSpec): RecordingPlan<A>;
  /** One line per action, for the sidecar's `workload`. */
  describe(action: A): string;
  /** Once per build, before any recording (build binaries, generate files); returns what record() needs. */
  prepare(workDir: string): Promise<ScenarioSession<A>>;
}

/** A prepared scenario: records recordings one at a time. */
export interface ScenarioSession<A> {
  record(plan: RecordingPlan<A>, target: RecordingTarget): Promise<RecordedRun>;
  /** Releases what prepare() set up (never throws). */
  close(): Promise<void>;
}
