// The demo's mimicry table (Wagner & Soto 2002): for each model the demo trained, and for the static model of the
// server binary, what an attacker who knows the model would have to inject before the shell's execve for no call
// to be anomalous, or the proof that nothing can (detect/mimicry.ts). The attacker starts where the real exploit
// did: the calls of the process that ran execve, continued from its creator's calls up to the fork that made it,
// as `watch` continues a forked child's sequence.

import { findMimicry } from "../detect/mimicry.js";
import type { Trace } from "../ingest/traceCollector.js";
import type { Detector } from "../models/detector.js";
import type { Vocabulary } from "../syscalls/vocabulary.js";
import type { ImageTracker } from "./staticCheck.js";

/** One model's answer. */
export interface DemoMimicry {
  model: string;
  /** Whether some sequence reaches execve with no anomalous call. */
  found: boolean;
  /** Whether the search ended: `found` false is then a proof. */
  complete: boolean;
  /** The calls to inject, execve last, when found. */
  calls: string[];
  explored: number;
}

export interface DemoMimicryTable {
  /** The process whose execve ran the shell. */
  pid: number;
  /** Calls of context before that execve (its own and its creator's up to the fork). */
  contextCalls: number;
  rows: DemoMimicry[];
}

/** A model to ask, with the vocabulary its ids are in. */
export interface MimicryModel {
  name: string;
  detector: Detector;
  vocabulary: Vocabulary;
}

/** States explored per model at most: the demo's models settle far below it. */
const MAX_STATES = 200_000;
/** Calls of context kept: more than any demo model's state depends on. */
const CONTEXT = 64;

/** The table for the exploit run, or null when no process of it ran execve after its first call. */
export function exploitMimicry(
  models: readonly MimicryModel[],
  traces: readonly Trace[],
  images: ImageTracker,
  vocab: Vocabulary,
): DemoMimicryTable | null {
  const execve = vocab.lookup("execve");
  if (execve < 0) return null;
  const trace = traces.find((t) => t.calls.indexOf(execve, 1) > 0);
  if (trace === undefined) return null;
  const byPid = new Map(traces.map((t) => [t.stream, t]));
  const start = lineageCalls(trace.stream, trace.calls.indexOf(execve, 1), byPid, images, new Set());
  const names = start.map((id) => vocab.token(id));
  return {
    pid: trace.stream,
    contextCalls: start.length,
    rows: models.map((m) => mimicryRow(m, names)),
  };
}

/** The last CONTEXT calls a process made before its call `end`, its creator's before the fork included. */
function lineageCalls(
  pid: number,
  end: number,
  byPid: Map<number, Trace>,
  images: ImageTracker,
  seen: Set<number>,
): number[] {
  const own = Array.from(byPid.get(pid)?.calls.subarray(0, end) ?? []);
  const creator = images.creator(pid);
  if (own.length >= CONTEXT || creator === undefined || seen.has(pid)) return own.slice(-CONTEXT);
  seen.add(pid);
  const before = lineageCalls(creator.parent, creator.at + 1, byPid, images, seen);
  return [...before, ...own].slice(-CONTEXT);
}

/** One model's search, with the calls named in its own vocabulary (a call it never saw gets an id beyond it). */
function mimicryRow(model: MimicryModel, start: readonly string[]): DemoMimicry {
  const { vocabulary } = model;
  const unseen: string[] = [];
  const idOf = (name: string): number => {
    const id = vocabulary.lookup(name);
    if (id >= 0) return id;
    if (!unseen.includes(name)) unseen.push(name);
    return vocabulary.size + unseen.indexOf(name);
  };
  const goal = idOf("execve");
  const r = findMimicry(model.detector, {
    goal: [goal],
    start: start.map(idOf),
    alphabet: vocabulary.size + unseen.length,
    maxStates: MAX_STATES,
  });
  const nameOf = (id: number): string => (id < vocabulary.size ? vocabulary.token(id) : unseen[id - vocabulary.size]!);
  return {
    model: model.name,
    found: r.found,
    complete: r.complete,
    calls: r.sequence.map(nameOf),
    explored: r.explored,
  };
}
