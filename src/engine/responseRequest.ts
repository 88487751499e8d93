// What the host engine asks a responder to do about a task (pH's graduated response: delay in proportion to recent
// anomalies, kill at anomaly_limit, suspend an execve). The responder applies policy and safety; the engine only asks.

export type ResponseKind = "delay" | "kill" | "suspend-execve";

/** What the engine asks a responder to do about a task; the responder applies policy and safety. */
export interface ResponseRequest {
  kind: ResponseKind;
  pid: number;
  tid: number;
  exe: string;
  /** The task's locality frame count after the call. */
  lfc: number;
  /** Anomalous calls the task has made since it began its program. */
  anomalies: number;
  syscall: string;
  /** Epoch seconds of the event. */
  time: number;
  reason: string;
  /** Asked for a call outside the binary's static model (watch --static kill), not by pH's anomaly counts. */
  static?: boolean;
}
