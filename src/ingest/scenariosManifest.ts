// The manifest of a homeostat scenarios benchmark, `<root>/scenarios.json`, written by `homeostat scenarios build`:
//   {"schema": "homeostat-scenarios/1", "seed": n, "programs": [{"name", "image", ...}], "skipped": [...], ...}
// Fields homeostat's evaluation reads are checked (zod, as the LID-DS metadata is); every other field is kept as
// it is. A program's name is its folder beside the manifest, so it must be one plain path component.

import { z } from "zod";
import { excerptOf, HomeostatError, ParseError } from "../errors.js";

export const SCENARIOS_MANIFEST_FILE = "scenarios.json";
export const SCENARIOS_MANIFEST_SCHEMA = "homeostat-scenarios/1";

const program = z.looseObject({
  name: z
    .string()
    .min(1)
    .refine((s) => !/[\\/]/.test(s) && s !== "." && s !== "..", "a program name is one folder name"),
  image: z.string().optional(),
  dataOnlyAttacks: z.array(z.string()).optional(),
});

const skippedEntry = z.union([
  z.string(),
  z.looseObject({ name: z.string().optional(), reason: z.string().optional() }),
]);

const manifestSchema = z.looseObject({
  schema: z.literal(SCENARIOS_MANIFEST_SCHEMA),
  seed: z.number().optional(),
  programs: z.array(program),
  skipped: z.array(skippedEntry).optional(),
});

/** A program the builder skipped, as far as the manifest says why. */
export interface SkippedProgram {
  name?: string;
  reason?: string;
}

/** What the evaluation uses from the manifest. */
export interface ScenariosManifest {
  seed?: number;
  /** Each program, with the attacks that change only data (invisible to call sequences by design), if listed. */
  programs: { name: string; image?: string; dataOnlyAttacks?: string[] }[];
  skipped: SkippedProgram[];
}

/** Parses a manifest's text. Throws ParseError (E_PARSE) or E_VERSION (another schema), naming `file`. */
export function parseScenariosManifest(text: string, file: string): ScenariosManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ParseError(`not valid JSON: ${(err as Error).message}`, { file, excerpt: excerptOf(text, 60) });
  }
  const schema = (value as { schema?: unknown } | null)?.schema;
  if (typeof schema === "string" && schema !== SCENARIOS_MANIFEST_SCHEMA && schema.startsWith("homeostat-scenarios/")) {
    throw new HomeostatError(
      "E_VERSION",
      `scenarios manifest schema "${schema}": this homeostat reads ${SCENARIOS_MANIFEST_SCHEMA}`,
      { file },
    );
  }
  const parsed = manifestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? "" : ` at ${issue.path.join(".")}`;
    throw new ParseError(`not a homeostat scenarios manifest${where}: ${issue?.message ?? "invalid"}`, { file });
  }
  const m = parsed.data;
  return {
    ...(m.seed !== undefined ? { seed: m.seed } : {}),
    programs: m.programs.map((p) => ({
      name: p.name,
      ...(p.image !== undefined ? { image: p.image } : {}),
      ...(p.dataOnlyAttacks !== undefined ? { dataOnlyAttacks: p.dataOnlyAttacks } : {}),
    })),
    skipped: (m.skipped ?? []).map((s): SkippedProgram => {
      if (typeof s === "string") return { name: s };
      return {
        ...(s.name !== undefined ? { name: s.name } : {}),
        ...(s.reason !== undefined ? { reason: s.reason } : {}),
      };
    }),
  };
}
