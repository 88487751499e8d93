// What `homeostat inspect --report` draws: a data set's category-bigram heatmaps per label and attack type and their
// difference, the bigrams that separate the labels most, length and distinct-call distributions per label, the most
// frequent calls per label, and the cleaning facts. Built by DatasetScan (datasetScan.ts); drawn by
// src/report/datasetReport.ts, which recomputes nothing.

import { CATEGORIES } from "../syscalls/categories.js";
import {
  type BigramHeatmap,
  type BigramSeparation,
  type CategoryBigrams,
  heatmapDifference,
} from "./categoryBigrams.js";
import type { CleaningFacts } from "./datasetCleaning.js";
import type { SharedHistogram, SyscallShare } from "./labelDistributions.js";

export interface DatasetProfile {
  /** The paths read, as given. */
  inputs: string[];
  traces: number;
  syscalls: number;
  /** Category names in index order: the axes of the heatmaps. */
  categories: string[];
  /** Per label (normal, attack, then attack − normal when both are present, other labels), then per attack type. */
  heatmaps: BigramHeatmap[];
  /** Bigrams by descending KS statistic (normal against attack); empty without both labels. */
  separation: BigramSeparation[];
  /** Traces on each side of the KS comparison (those with at least one bigram). */
  sides: { normal: number; attack: number };
  lengths: SharedHistogram;
  distinct: SharedHistogram;
  topSyscalls: SyscallShare[];
  cleaning: CleaningFacts;
}

/** The heatmaps in reading order, with the difference added when both labels are there. */
export function profileHeatmaps(bigrams: CategoryBigrams): BigramHeatmap[] {
  const maps = bigrams.heatmaps();
  const labels = maps.filter((m) => m.kind === "label").sort((a, b) => a.name.localeCompare(b.name));
  const types = maps.filter((m) => m.kind === "attackType").sort((a, b) => a.name.localeCompare(b.name));
  const normal = labels.find((m) => m.name === "normal");
  const attack = labels.find((m) => m.name === "attack");
  return [
    ...(normal !== undefined ? [normal] : []),
    ...(attack !== undefined ? [attack] : []),
    ...(normal !== undefined && attack !== undefined ? [heatmapDifference(normal, attack)] : []),
    ...labels.filter((m) => m !== normal && m !== attack),
    ...types,
  ];
}

/** The category names, in index order. */
export function categoryNames(): string[] {
  return CATEGORIES.map((c) => c.name);
}
