// The folder layout of a homeostat scenarios benchmark (`homeostat scenarios build OUT_DIR`): one LID-DS 2021-style
// scenario per program, `<root>/<program>/{training,validation,test/normal,test/normal_and_attack}/<rec>.strace`
// with `<rec>.json` beside each, and the manifest `<root>/scenarios.json` (scenariosManifest.ts). The programs are
// the manifest's when it is there, else every subfolder holding one of the split folders. Every program folder is
// checked before anything is read: one missing a split, or with no recording in it, is an E_FORMAT error naming it.

import { type Dirent, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { HomeostatError } from "../errors.js";
import { ioError } from "./inputLimits.js";
import { isNonTraceName } from "./inputNames.js";
import {
  parseScenariosManifest,
  SCENARIOS_MANIFEST_FILE,
  type ScenariosManifest,
  type SkippedProgram,
} from "./scenariosManifest.js";

/** The split folders every program holds, relative to its folder. */
export const SCENARIO_SPLIT_FOLDERS = ["training", "validation", "test/normal", "test/normal_and_attack"] as const;

/** One program's scenario. */
export interface ScenarioProgram {
  name: string;
  /** Its folder: `<root>/<name>`. */
  dir: string;
  /** The container image it ran in, from the manifest. */
  image?: string;
  /** Its attacks that change only what it reads or writes, not its calls, as the manifest lists them. */
  dataOnlyAttacks?: string[];
}

export interface ScenariosLayout {
  root: string;
  /** The programs, in the manifest's order, else by folder name. */
  programs: ScenarioProgram[];
  /** Whether scenarios.json was there (and read). */
  manifest: boolean;
  seed?: number;
  /** Programs the builder skipped, as the manifest lists them. */
  skipped: SkippedProgram[];
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function listFolder(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (err) {
    throw ioError(dir, err, "cannot read folder");
  }
}

function readManifest(root: string): ScenariosManifest | undefined {
  const file = join(root, SCENARIOS_MANIFEST_FILE);
  let text: string;
  try {
    if (!statSync(file).isFile()) return undefined;
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw ioError(file, err, "cannot read the scenarios manifest");
  }
  return parseScenariosManifest(text, file);
}

/** The subfolders of `root` holding at least one split folder, by name. */
function programFolders(root: string): ScenarioProgram[] {
  return listFolder(root)
    .filter((d) => !d.name.startsWith(".") && isDir(join(root, d.name)))
    .filter((d) => ["training", "validation", "test"].some((s) => isDir(join(root, d.name, s))))
    .map((d) => ({ name: d.name, dir: join(root, d.name) }));
}

/** Throws E_FORMAT naming the program's folder when a split folder is missing or holds no recording. */
export function checkScenarioProgram(program: ScenarioProgram): void {
  for (const split of SCENARIO_SPLIT_FOLDERS) {
    const dir = join(program.dir, split);
    if (!isDir(dir)) {
      throw new HomeostatError(
        "E_FORMAT",
        `program "${program.name}" has no ${split}/ folder (a scenario holds ${SCENARIO_SPLIT_FOLDERS.join("/, ")}/)`,
        { file: program.dir },
      );
    }
    if (!listFolder(dir).some((d) => !isNonTraceName(d.name))) {
      throw new HomeostatError("E_FORMAT", `program "${program.name}": ${split}/ holds no recording`, {
        file: program.dir,
      });
    }
  }
}

/**
 * Reads the layout of a scenarios folder and checks every program's folder. E_NOT_FOUND when `root` is not a
 * folder, E_FORMAT when it holds no program or a program's folder is missing or incomplete.
 */
export function readScenariosLayout(root: string): ScenariosLayout {
  if (!isDir(root)) throw new HomeostatError("E_NOT_FOUND", "not a folder", { file: root });
  const manifest = readManifest(root);
  const programs =
    manifest === undefined ? programFolders(root) : manifest.programs.map((p) => ({ ...p, dir: join(root, p.name) }));
  const seen = new Set<string>();
  for (const p of programs) {
    if (seen.has(p.name)) {
      throw new HomeostatError("E_FORMAT", `the manifest lists program "${p.name}" twice`, {
        file: join(root, SCENARIOS_MANIFEST_FILE),
      });
    }
    seen.add(p.name);
    if (!isDir(p.dir)) {
      throw new HomeostatError("E_FORMAT", `program "${p.name}" is in the manifest but has no folder`, {
        file: p.dir,
      });
    }
    checkScenarioProgram(p);
  }
  if (programs.length === 0) {
    throw new HomeostatError(
      "E_FORMAT",
      "not a scenarios folder: no program folder with training/, validation/ and test/ in it" +
        (manifest !== undefined ? " (the manifest lists no program)" : ""),
      { file: root },
    );
  }
  return {
    root,
    programs,
    manifest: manifest !== undefined,
    ...(manifest?.seed !== undefined ? { seed: manifest.seed } : {}),
    skipped: manifest?.skipped ?? [],
  };
}
