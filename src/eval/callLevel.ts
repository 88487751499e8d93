// Call-level metrics over recordings, as LID-DS evaluates host IDS (Grimmer et al., "A Modern and Sophisticated
// Host Based Intrusion Detection Data Set", 2019; LID-DS repository, algorithms/performance_measurement.py, class
// PerformanceMeasurement, later named Performance; read for its definitions, not copied). The input is one alarm
// flag per call (1 = the detector's score for that call exceeded the threshold) per recording.
//
// Rules, matching LID-DS except where marked:
// - Attack phase: in an attack recording the calls at index >= attackStart belong to the attack. LID-DS compares
//   each call's time with the exploit time (exploit_time <= call time); attackStartIndex (detectionDelay.ts) turns
//   an attack time into that index. An attack recording with no known start (e.g. an ADFA-LD attack trace) is
//   attack from its first call (attackStart = 0). A normal recording has no attack phase.
// - False-alarm calls (LID-DS false_positives): alarmed calls in normal recordings plus alarmed calls before the
//   attack start in attack recordings. True negatives: unalarmed calls there. True positives / false negatives:
//   alarmed / unalarmed calls in the attack phase.
// - Consecutive false alarms (CFA, LID-DS consecutive_false_positives_normal / _exploits): the number of maximal
//   runs of adjacent false-alarm calls; a run of any length counts once. A run ends at an unalarmed call, at the
//   attack start (the first attack-phase call ends it whether or not it is alarmed), or at the end of the
//   recording, so runs never span recordings. DIFFERENCE: LID-DS closes an open run only when the next recording
//   begins, so a run still open at the end of the very last recording it processes is never counted; here every
//   recording closes its own runs, which makes the result independent of recording order.
// - Detection: an attack recording is detected when any alarm falls at or after its attack start; the detection
//   rate is detected / attack recordings (LID-DS alarm_count / exploit_count).
// - precisionCfa = detected / (detected + CFA normal + CFA attack) and precisionCalls = detected / (detected +
//   false-alarm calls), LID-DS precision_with_cfa and precision_with_syscalls; f1Cfa is the harmonic mean of
//   precisionCfa and the detection rate (LID-DS f1_cfa). DIFFERENCE: where a denominator is zero LID-DS reports 0;
//   here it is NaN, as everywhere in src/eval (confusion.ts), and toJsonSafe writes it as null.
// - Detection delay (not in LID-DS's table): calls and seconds from the attack start to the first alarm at or
//   after it, per detectionDelay.ts; summaries cover detected attack recordings only.

import { HomeostatError } from "../errors.js";
import {
  attackStartIndex,
  type DelaySummary,
  type DetectionDelay,
  detectionDelay,
  summarizeDelays,
} from "./detectionDelay.js";

export interface RecordingAlarms {
  /** A name for reports (e.g. the recording's file name). */
  name?: string;
  /** One flag per call: nonzero = alarm. */
  alarms: Uint8Array;
  /** True for a recording that contains an attack. */
  attack: boolean;
  /** Attack recordings: index of the first attack call. */
  attackStart?: number;
  /** Attack recordings: when the attack began, on the timestamps' clock; gives attackStart when that is absent. */
  attackTime?: number;
  /** Per-call timestamps in seconds (non-decreasing), one per call; enable delays in seconds. */
  timestamps?: Float64Array;
}

export interface RecordingResult {
  name?: string;
  attack: boolean;
  calls: number;
  /** First attack-phase call; `calls` for a normal recording. */
  attackStart: number;
  falseAlarmCalls: number;
  /** Runs of consecutive false-alarm calls (CFA). */
  falseAlarmRuns: number;
  truePositiveCalls: number;
  falseNegativeCalls: number;
  trueNegativeCalls: number;
  /** Attack recordings: any alarm at or after the attack start. Always false for normal recordings. */
  detected: boolean;
  /** Attack recordings only. */
  delay?: DetectionDelay;
}

export interface CallLevelMetrics {
  recordings: number;
  attackRecordings: number;
  detectedAttacks: number;
  /** detectedAttacks / attackRecordings (NaN without attack recordings). */
  detectionRate: number;
  calls: number;
  falseAlarmCalls: number;
  truePositiveCalls: number;
  falseNegativeCalls: number;
  trueNegativeCalls: number;
  /** falseAlarmCalls / (falseAlarmCalls + trueNegativeCalls). */
  falseAlarmCallRate: number;
  /** CFA in normal recordings. */
  cfaNormal: number;
  /** CFA before the attack start in attack recordings. */
  cfaAttack: number;
  /** cfaNormal + cfaAttack. */
  cfa: number;
  precisionCfa: number;
  precisionCalls: number;
  f1Cfa: number;
  /** Delays of detected attack recordings, in calls. */
  delayCalls: DelaySummary;
  /** Delays of detected attack recordings that have timestamps, in seconds. */
  delaySeconds: DelaySummary;
  perRecording: RecordingResult[];
}

/** The number of maximal runs of nonzero flags within [start, end). */
export function countRuns(flags: Uint8Array, start = 0, end = flags.length): number {
  let runs = 0;
  let inRun = false;
  for (let i = start; i < end; i++) {
    if (flags[i] !== 0) {
      if (!inRun) runs++;
      inRun = true;
    } else inRun = false;
  }
  return runs;
}

function countSet(flags: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) if (flags[i] !== 0) n++;
  return n;
}

function resolveAttackStart(rec: RecordingAlarms, label: string): number {
  const n = rec.alarms.length;
  if (!rec.attack) {
    if (rec.attackStart !== undefined || rec.attackTime !== undefined) {
      throw new HomeostatError("E_USAGE", `${label} is normal but has an attack start`);
    }
    return n;
  }
  if (rec.attackStart !== undefined) {
    const s = rec.attackStart;
    if (!(Number.isInteger(s) && s >= 0 && s <= n)) {
      throw new HomeostatError("E_USAGE", `${label}: attack start ${s} is not a call index in [0, ${n}]`);
    }
    return s;
  }
  if (rec.attackTime !== undefined) {
    if (rec.timestamps === undefined) {
      throw new HomeostatError("E_USAGE", `${label}: an attack time needs per-call timestamps`);
    }
    return attackStartIndex(rec.timestamps, rec.attackTime);
  }
  return 0;
}

/** The call-level counts of one recording (rules in the header). */
export function recordingResult(rec: RecordingAlarms, index = 0): RecordingResult {
  const label = rec.name !== undefined ? `recording ${JSON.stringify(rec.name)}` : `recording ${index}`;
  const { alarms, timestamps } = rec;
  const n = alarms.length;
  if (timestamps !== undefined && timestamps.length !== n) {
    throw new HomeostatError("E_USAGE", `${label}: ${timestamps.length} timestamps for ${n} calls`);
  }
  const start = resolveAttackStart(rec, label);
  const falseAlarmCalls = countSet(alarms, 0, start);
  const truePositiveCalls = countSet(alarms, start, n);
  const result: RecordingResult = {
    attack: rec.attack,
    calls: n,
    attackStart: start,
    falseAlarmCalls,
    falseAlarmRuns: countRuns(alarms, 0, start),
    truePositiveCalls,
    falseNegativeCalls: n - start - truePositiveCalls,
    trueNegativeCalls: start - falseAlarmCalls,
    detected: false,
  };
  if (rec.name !== undefined) result.name = rec.name;
  if (rec.attack) {
    const options: { timestamps?: Float64Array; attackTime?: number } = {};
    if (timestamps !== undefined) options.timestamps = timestamps;
    if (rec.attackTime !== undefined) options.attackTime = rec.attackTime;
    result.delay = detectionDelay(alarms, start, options);
    result.detected = result.delay.index >= 0;
  }
  return result;
}

function ratio(num: number, den: number): number {
  return den === 0 ? Number.NaN : num / den;
}

/** Sums of the per-recording counts. */
interface CallLevelTotals {
  attackRecordings: number;
  detectedAttacks: number;
  calls: number;
  fp: number;
  tp: number;
  fn: number;
  tn: number;
  cfaNormal: number;
  cfaAttack: number;
  delayCalls: number[];
  delaySeconds: number[];
}

function callLevelTotals(perRecording: readonly RecordingResult[]): CallLevelTotals {
  const t: CallLevelTotals = {
    attackRecordings: 0,
    detectedAttacks: 0,
    calls: 0,
    fp: 0,
    tp: 0,
    fn: 0,
    tn: 0,
    cfaNormal: 0,
    cfaAttack: 0,
    delayCalls: [],
    delaySeconds: [],
  };
  for (const r of perRecording) {
    t.calls += r.calls;
    t.fp += r.falseAlarmCalls;
    t.tp += r.truePositiveCalls;
    t.fn += r.falseNegativeCalls;
    t.tn += r.trueNegativeCalls;
    if (r.attack) {
      t.attackRecordings++;
      t.cfaAttack += r.falseAlarmRuns;
      if (r.detected && r.delay !== undefined) {
        t.detectedAttacks++;
        t.delayCalls.push(r.delay.calls);
        t.delaySeconds.push(r.delay.seconds);
      }
    } else t.cfaNormal += r.falseAlarmRuns;
  }
  return t;
}

/** LID-DS style call-level metrics over a set of recordings (rules in the header). */
export function callLevelMetrics(recordings: Iterable<RecordingAlarms>): CallLevelMetrics {
  const perRecording: RecordingResult[] = [];
  let index = 0;
  for (const rec of recordings) perRecording.push(recordingResult(rec, index++));
  const t = callLevelTotals(perRecording);
  const detectionRate = ratio(t.detectedAttacks, t.attackRecordings);
  const cfa = t.cfaNormal + t.cfaAttack;
  const precisionCfa = ratio(t.detectedAttacks, t.detectedAttacks + cfa);
  let f1Cfa = Number.NaN;
  if (!Number.isNaN(precisionCfa) && !Number.isNaN(detectionRate)) {
    const sum = precisionCfa + detectionRate;
    f1Cfa = sum === 0 ? 0 : (2 * precisionCfa * detectionRate) / sum;
  }
  return {
    recordings: perRecording.length,
    attackRecordings: t.attackRecordings,
    detectedAttacks: t.detectedAttacks,
    detectionRate,
    calls: t.calls,
    falseAlarmCalls: t.fp,
    truePositiveCalls: t.tp,
    falseNegativeCalls: t.fn,
    trueNegativeCalls: t.tn,
    falseAlarmCallRate: ratio(t.fp, t.fp + t.tn),
    cfaNormal: t.cfaNormal,
    cfaAttack: t.cfaAttack,
    cfa,
    precisionCfa,
    precisionCalls: ratio(t.detectedAttacks, t.detectedAttacks + t.fp),
    f1Cfa,
    delayCalls: summarizeDelays(t.delayCalls),
    delaySeconds: summarizeDelays(t.delaySeconds),
    perRecording,
  };
}
