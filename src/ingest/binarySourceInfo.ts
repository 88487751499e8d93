// The payload of a SOURCE block of homeostat's binary trace format (docs/binary-trace-format.md): the JSON of a
// SourceInfo, holding only its known fields. The writer keeps those fields; the reader checks each one's type, so
// that a damaged or foreign block cannot hand the rest of the pipeline a malformed source.

import type { Label, SourceInfo } from "./event.js";

const SOURCE_STRING_FIELDS = ["split", "attackType", "attackInstance"] as const;

/** The fields of `source` that a SOURCE block stores (a non-finite attack time is left out). */
export function sourceInfoForBlock(source: SourceInfo): SourceInfo {
  const info: SourceInfo = { path: source.path, format: source.format };
  if (source.label !== undefined) info.label = source.label;
  if (source.split !== undefined) info.split = source.split;
  if (source.attackType !== undefined) info.attackType = source.attackType;
  if (source.attackInstance !== undefined) info.attackInstance = source.attackInstance;
  if (source.attackTime !== undefined && Number.isFinite(source.attackTime)) info.attackTime = source.attackTime;
  if (source.meta !== undefined) info.meta = source.meta;
  return info;
}

/** Validates a SOURCE block's JSON, keeping only the known SourceInfo fields. */
export function toSourceInfo(v: unknown): SourceInfo | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.path !== "string" || typeof o.format !== "string") return undefined;
  const info: SourceInfo = { path: o.path, format: o.format };
  if (o.label !== undefined) {
    if (o.label !== "normal" && o.label !== "attack") return undefined;
    info.label = o.label as Label;
  }
  for (const k of SOURCE_STRING_FIELDS) {
    const x = o[k];
    if (x === undefined) continue;
    if (typeof x !== "string") return undefined;
    info[k] = x;
  }
  if (o.attackTime !== undefined && o.attackTime !== null) {
    if (typeof o.attackTime !== "number") return undefined;
    info.attackTime = o.attackTime;
  }
  if (o.meta !== undefined) {
    if (typeof o.meta !== "object" || o.meta === null || Array.isArray(o.meta)) return undefined;
    info.meta = o.meta as Record<string, unknown>;
  }
  return info;
}
