// The package version, read once from package.json (two levels above both src/cli and dist/cli). The models layer
// reads the same file to stamp profiles (homeostatVersion in src/models/profile.ts); this copy is here so that
// `homeostat --version` does not load the models.
import { readFileSync } from "node:fs";

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: unknown;
    };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
}

export const VERSION: string = readVersion();
