// ADFA-LD's folder layout gives each trace its label (Creech & Hu 2013): Training_Data_Master holds normal training
// traces, Validation_Data_Master normal validation traces, and Attack_Data_Master/<Type>_<n>/ the n-th instance of
// an attack of that type. The attack type comes from the folder, not the file name (file names are irregular).

import type { SourceInfo } from "./event.js";

export const ADFA_SPLIT_FOLDERS = ["Training_Data_Master", "Validation_Data_Master", "Attack_Data_Master"] as const;

/** Labels for a path inside an ADFA-LD tree (folder or archive), or undefined when it is not one. */
export function adfaSourceInfo(parts: readonly string[]): Partial<SourceInfo> | undefined {
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p === "Training_Data_Master") return { split: "training", label: "normal" };
    if (p === "Validation_Data_Master") return { split: "validation", label: "normal" };
    if (p === "Attack_Data_Master") {
      const folder = i + 2 < parts.length ? parts[i + 1] : undefined;
      const info: Partial<SourceInfo> = { split: "attack", label: "attack" };
      if (folder !== undefined) {
        info.attackInstance = folder;
        info.attackType = folder.replace(/_\d+$/, "");
      }
      return info;
    }
  }
  return undefined;
}
