// `homeostat profiles show|normalize|tolerize|sensitize|reset|export` (registered in ../commands/profiles.ts):
// the commands that read the stored profile models.

import { HomeostatError, isHomeostatError } from "../../errors.js";
import { syscallName } from "../../engine/hostMonitor.js";
import { type AdminOperation, administerProfiles, loadStoredProfile } from "../../watch/profileAdmin.js";
import type { StaticSummary } from "../../static/analysisWorker.js";
import { seccompPolicy } from "../../response/seccompPolicy.js";
import type { ProfileSummary, StateStore } from "../../store/stateStore.js";
import { writeAtomically } from "../partialOutput.js";
import { num } from "../terminal.js";
import { type CommonFlags, openStore, when } from "./profilesList.js";

export type { AdminOperation } from "../../watch/profileAdmin.js";

export interface ExportFlags extends CommonFlags {
  out?: string;
  mode: string;
  training?: boolean;
}

/** Exactly one profile for `selector`, or a usage error that lists the candidates. */
function resolveOne(store: StateStore, selector: string): ProfileSummary {
  const found = store.findProfiles(selector);
  if (found.length === 0) {
    throw new HomeostatError(
      "E_NOT_FOUND",
      `no profile matches "${selector}" in ${store.path} (see homeostat profiles list)`,
    );
  }
  if (found.length > 1) {
    throw new HomeostatError(
      "E_USAGE",
      `"${selector}" matches ${found.length} profiles (${found.map((f) => f.key).join(", ")}): give the full key`,
    );
  }
  return found[0]!;
}

const loadPh = loadStoredProfile;

/** What `show` says of a profile's static model: null when there is none, with why when it cannot be read. */
interface StaticView {
  complete: boolean;
  syscalls: string[];
  analysedAt: string;
  unresolved: number;
  dlopen: number;
  sites: string[];
  objects: { path: string; role: string; buildId?: string }[];
  /** Calls the binary can make that the profile never learned, and learned calls outside the model. */
  unseen: string[];
  outside: string[];
}

function staticView(
  store: StateStore,
  key: string,
  learned: readonly number[],
): { view: StaticView | null; error?: string } {
  let row;
  try {
    row = store.loadStaticModel(key);
  } catch (err) {
    if (!isHomeostatError(err)) throw err;
    return { view: null, error: err.oneLine() };
  }
  if (row === undefined) return { view: null };
  const d = (row.detail ?? {}) as Partial<StaticSummary>;
  const set = new Set(row.syscalls);
  const seen = new Set(learned);
  return {
    view: {
      complete: row.complete,
      syscalls: row.syscalls.map(syscallName),
      analysedAt: when(row.analysedAt),
      unresolved: typeof d.unresolved === "number" ? d.unresolved : 0,
      dlopen: typeof d.dlopen === "number" ? d.dlopen : 0,
      sites: Array.isArray(d.sites) ? d.sites : [],
      objects: Array.isArray(d.objects)
        ? d.objects.map((o) => ({
            path: o.path,
            role: o.role,
            ...(o.buildId !== undefined ? { buildId: o.buildId } : {}),
          }))
        : [],
      unseen: row.syscalls.filter((n) => !seen.has(n)).map(syscallName),
      outside: learned.filter((n) => !set.has(n)).map(syscallName),
    },
  };
}

export function runShow(selector: string, flags: CommonFlags): void {
  const store = openStore(flags, true);
  try {
    const s = resolveOne(store, selector);
    const p = loadPh(store, s.key);
    const learned = p.syscallsSeen();
    const seen = learned.map(syscallName);
    const { view, error } = staticView(store, s.key, learned);
    const detail = {
      ...s,
      modelSize: p.modelSize(),
      normalModelSize: p.normalModelSize(),
      modelUnit: p.modelUnit,
      settings: p.settings,
      syscalls: seen,
      normalAt: s.normalTime,
      memoryBytes: p.memoryBytes(),
      static: view,
      ...(error !== undefined ? { staticError: error } : {}),
    };
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(detail)}\n`);
      return;
    }
    const unit = p.modelUnit;
    const lines = [
      `profile   ${s.key}`,
      `exe       ${s.exe} (device ${s.dev}, inode ${s.ino})`,
      `model     ${s.model}`,
      `state     ${s.state}${s.state === "frozen" && s.normalTime !== null ? ` (normal at ${when(s.normalTime)})` : ""}`,
      `training  ${num(s.trainCount)} calls, ${num(s.lastModCount)} since the last change, ${num(detail.modelSize)} ${unit}`,
      `normal    ${s.state === "normal" ? `${num(detail.normalModelSize)} ${unit}, ${num(s.anomalies)} anomalies (limit ${p.settings.anomalyLimit})` : "-"}`,
      `version   ${s.version}, created ${when(s.createdAt)}, updated ${when(s.updatedAt)}, ${num(s.bytes)} bytes stored`,
      `syscalls  ${seen.length} learned: ${seen.join(" ")}`,
    ];
    if (view === null) {
      lines.push(
        `static    ${error !== undefined ? `unreadable: ${error}` : "none (homeostat watch --static derives it from the binary)"}`,
      );
    } else {
      const why = [
        ...(view.unresolved > 0
          ? [`${view.unresolved} syscall site${view.unresolved === 1 ? "" : "s"} not resolved`]
          : []),
        ...(view.dlopen > 0
          ? [`${view.dlopen} dlopen call${view.dlopen === 1 ? "" : "s"} of plugins not analysed`]
          : []),
      ];
      lines.push(
        `static    ${view.syscalls.length} its binary can make, ${view.complete ? "complete" : `incomplete (${why.join(", ") || "the analysis may have missed calls"})`}, analysed ${view.analysedAt}: ${view.syscalls.join(" ")}`,
        `not seen  ${view.unseen.length} it can make but never made while learning: ${view.unseen.join(" ") || "-"}`,
      );
      if (view.outside.length > 0)
        lines.push(`outside   ${view.outside.length} learned but outside the static model: ${view.outside.join(" ")}`);
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    store.close();
  }
}

export function runAdmin(name: AdminOperation, selector: string, flags: CommonFlags & { all?: boolean }): void {
  const store = openStore(flags, false);
  try {
    const targets = flags.all ? store.findProfiles(selector) : [resolveOne(store, selector)];
    if (targets.length === 0)
      throw new HomeostatError("E_NOT_FOUND", `no profile matches "${selector}" in ${store.path}`);
    const out = administerProfiles(store, targets, name);
    if (flags.json) process.stdout.write(`${JSON.stringify(out)}\n`);
    else for (const o of out) process.stdout.write(`${name}: ${o.key}: ${o.before} -> ${o.after}\n`);
  } finally {
    store.close();
  }
}

export function runExport(selector: string, flags: ExportFlags): void {
  if (flags.mode !== "enforce" && flags.mode !== "log") {
    throw new HomeostatError("E_USAGE", `unknown --mode "${flags.mode}" (enforce, log)`);
  }
  const store = openStore(flags, true);
  try {
    const s = resolveOne(store, selector);
    if (s.state !== "normal" && flags.training !== true) {
      throw new HomeostatError(
        "E_USAGE",
        `profile ${s.key} is ${s.state}, not normal: its allow-list may miss calls the program makes (--training exports it anyway)`,
      );
    }
    const p = loadPh(store, s.key);
    const { profile, skipped } = seccompPolicy(p.syscallsSeen().map(syscallName), flags.mode);
    const text = `${JSON.stringify(profile, null, 2)}\n`;
    if (flags.out !== undefined && flags.out !== "-") {
      writeAtomically(flags.out, text);
      process.stderr.write(
        `homeostat: ${flags.out}: ${profile.syscalls[0]!.names.length} system calls allowed for ${s.exe}` +
          `${skipped.length > 0 ? ` (${skipped.length} not x86_64 names left out: ${skipped.join(", ")})` : ""}\n`,
      );
    } else process.stdout.write(text);
  } finally {
    store.close();
  }
}
