// What the demo (demoRun.ts) found, as data for the CLI and the report (demoReport.ts) to show: whether the exploit
// ran and was seen, each model's threshold and alarms, the per-call timelines of two sessions, the static model's
// verdict and the mimicry table.

import type { DemoMimicryTable } from "./demoMimicry.js";
import type { DemoStatic } from "./staticCheck.js";

export interface DemoAlarm {
  model: string;
  pid: number;
  /** Call index within the process's trace. */
  position: number;
  lfc: number;
  threshold: number;
  /** The calls leading to the alarm, oldest first, as syscall names. */
  window: string[];
}
export interface DemoModelResult {
  model: string;
  profileBytes: number;
  /** Largest locality frame count over the calibration sessions: alarms fire above it. */
  threshold: number;
  falseAlarms: number;
  exploitAlarms: number;
}
export interface TimelinePoint {
  session: "normal" | "exploit";
  model: string;
  call: number;
  lfc: number;
  syscall: string;
}
export interface DemoResult {
  exploitDetected: boolean;
  /** The exploit really ran its command in the server (the proof file exists). */
  exploitSucceeded: boolean;
  falseAlarms: number;
  normalSessions: number;
  calibrationSessions: number;
  heldOutSessions: number;
  trainingTraces: number;
  trainingCalls: number;
  firstAlarm: DemoAlarm | null;
  alarms: DemoAlarm[];
  models: DemoModelResult[];
  timeline: TimelinePoint[];
  /** The processes the timeline shows. */
  timelinePids: { normal: number | null; exploit: number | null };
  /**
   * Zero training: the static set model of the server binary, and the calls its code made in the held-out and
   * the exploit runs that lie outside it. Null when the binary could not be analysed (`staticError` says why).
   */
  staticModel: DemoStatic | null;
  staticError?: string;
  /** What an attacker who knows each model must inject for the shell's execve to go unseen (Wagner & Soto). */
  mimicry: DemoMimicryTable | null;
  seconds: number;
}
