// A HostEventSink that records every event as a plain object, for the capture backends' tests.

import type { ExeIdentity, HostEventSink, LossSite } from "../hostEvents.js";

export type HostEvent =
  | { kind: "syscall"; pid: number; tid: number; nr: number; time: number }
  | { kind: "exec"; pid: number; tid: number; exe: ExeIdentity | undefined; time: number }
  | { kind: "fork"; parentPid: number; parentTid: number; childPid: number; childTid: number; time: number }
  | { kind: "exit"; pid: number; tid: number; time: number }
  | { kind: "lost"; count: number; site: LossSite; time: number };

export class HostEventRecorder implements HostEventSink {
  constructor(readonly events: HostEvent[] = []) {}
  syscall(pid: number, tid: number, nr: number, time: number): void {
    this.events.push({ kind: "syscall", pid, tid, nr, time });
  }
  exec(pid: number, tid: number, exe: ExeIdentity | undefined, time: number): void {
    this.events.push({ kind: "exec", pid, tid, exe, time });
  }
  fork(parentPid: number, parentTid: number, childPid: number, childTid: number, time: number): void {
    this.events.push({ kind: "fork", parentPid, parentTid, childPid, childTid, time });
  }
  exit(pid: number, tid: number, time: number): void {
    this.events.push({ kind: "exit", pid, tid, time });
  }
  lost(count: number, site: LossSite, time: number): void {
    this.events.push({ kind: "lost", count, site, time });
  }
}
