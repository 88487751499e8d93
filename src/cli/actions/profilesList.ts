// `homeostat profiles list` (registered in ../commands/profiles.ts), and what every profiles command shares: the
// store the flags name, and how a time is shown. It loads the store and nothing of the profile models.

import { defaultStateDir, StateStore } from "../../store/stateStore.js";
import { table } from "../terminal.js";

export interface CommonFlags {
  state?: string;
  json?: boolean;
}

export function openStore(flags: CommonFlags, readonly: boolean): StateStore {
  return StateStore.open(flags.state ?? defaultStateDir(), { readonly });
}

export function when(epoch: number | null): string {
  return epoch === null ? "-" : new Date(epoch * 1000).toISOString().replace(/\.\d+Z$/, "Z");
}

export function runList(flags: CommonFlags): void {
  const store = openStore(flags, true);
  try {
    const rows = store.listProfiles();
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(rows)}\n`);
      return;
    }
    if (rows.length === 0) {
      process.stdout.write(`no profiles in ${store.path}\n`);
      return;
    }
    process.stdout.write(
      `${table(
        ["exe", "state", "train calls", "since change", "anomalies", "version", "updated", "key"],
        rows.map((r) => [
          r.exe,
          r.state,
          r.trainCount,
          r.lastModCount,
          r.anomalies,
          r.version,
          when(r.updatedAt),
          r.key,
        ]),
      )}\n`,
    );
  } finally {
    store.close();
  }
}
