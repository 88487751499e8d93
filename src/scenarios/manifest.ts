// The manifest of a scenarios build, `<OUT_DIR>/scenarios.json` (schema `homeostat-scenarios/1`, read by
// src/ingest/scenariosManifest.ts): the seed and size, homeostat's version, when it started and how long it took,
// each program with its image, recordings per split, attack kinds and seconds, and the programs skipped with why.

export const MANIFEST_FILE = "scenarios.json";
export const MANIFEST_SCHEMA = "homeostat-scenarios/1";

export interface ProgramEntry {
  name: string;
  image: string;
  recordings: { training: number; validation: number; testNormal: number; testAttack: number };
  attacks: string[];
  /** Attack kinds that change only data (may be invisible to system-call sequence models). */
  dataOnlyAttacks: string[];
  /** Normal actions per recording. */
  actionsPerRecording: number;
  /** System calls over all its recordings. */
  calls: number;
  seconds: number;
}

export interface SkippedEntry {
  name: string;
  reason: string;
}

export interface ScenariosManifest {
  schema: typeof MANIFEST_SCHEMA;
  seed: number;
  size: string;
  homeostatVersion: string;
  startedAt: string;
  /** Wall-clock seconds of the whole build. */
  seconds: number;
  /** Programs recorded at the same time. */
  jobs: number;
  /** The machine the build ran on: its CPUs and load averages (1 min) at start and end, to read `seconds` by. */
  host: { cpus: number; loadStart: number; loadEnd: number };
  strace: string;
  programs: ProgramEntry[];
  skipped: SkippedEntry[];
}
