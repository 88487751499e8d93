// The words of the engine's alerts (the `output` line of each Falco-format alert), apart from the decisions that
// raise them (hostMonitor.ts): one function per alert, each given the figures it reports. The rules, priorities and
// fields stay with the engine; only how an alert reads to a person is here.

/** "1 anomaly", "2 anomalies": a count with its noun, singular or plural. */
export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export interface AnomalyFigures {
  call: string;
  pid: number;
  path: string;
  /** pH: unseen lookahead pairs; other models: the model spec the call was anomalous for. */
  missing: number | null;
  model: string;
  lfc: number;
  frame: number;
  anomalies: number;
  suppressed: number;
}

export function anomalyText(f: AnomalyFigures): string {
  const why =
    f.missing !== null
      ? `${plural(f.missing, "unseen lookahead pair", "unseen lookahead pairs")}`
      : `anomalous for ${f.model}`;
  const suppressed = f.suppressed > 0 ? `, ${f.suppressed} similar alerts suppressed` : "";
  return `Anomalous ${f.call} in pid ${f.pid} (${f.path}): ${why}, LFC ${f.lfc}/${f.frame}, ${plural(f.anomalies, "anomaly", "anomalies")} in this process${suppressed}`;
}

export function frozenText(path: string, trainCount: number, normalWait: number): string {
  return `Profile of ${path} stopped changing after ${trainCount} training calls; normal in ${normalWait} s unless it learns something new`;
}

export function normalText(path: string, size: number, unit: string): string {
  return `Profile of ${path} is now normal (${size} ${unit}): its anomalies will be reported`;
}

export function retrainText(path: string, anomalyLimit: number): string {
  return `Profile of ${path} exceeded anomaly_limit ${anomalyLimit}: it stops normal monitoring and keeps training`;
}

export function tolerizeText(pid: number, path: string, lfc: number, tolerizeLimit: number): string {
  return `pid ${pid} (${path}) has LFC ${lfc} > tolerize_limit ${tolerizeLimit}: the profile's training data is reset so this behaviour is not learned`;
}

export interface ImpossibleFigures {
  call: string;
  /** The call before it, for a pair outside the digraph; null for a call outside the set. */
  previous: string | null;
  pid: number;
  path: string;
  calls: number;
  pairs: number;
  complete: boolean;
  /** Why an incomplete model is incomplete. */
  incomplete?: string;
  /** Checked when the analysis came back, not as the call was made. */
  late: boolean;
}

export function impossibleText(f: ImpossibleFigures): string {
  const what = f.previous !== null ? `system call ${f.call} right after ${f.previous}` : `system call ${f.call}`;
  const when = f.late ? " (made before the analysis finished)" : "";
  if (!f.complete) {
    const size = f.previous !== null ? `${f.pairs} ordered pairs` : `${f.calls} calls`;
    const why = f.incomplete ?? "the analysis may have missed some";
    return `${what[0]!.toUpperCase()}${what.slice(1)} in pid ${f.pid} (${f.path}) is outside the incomplete static model derived from the binary (${size} its code can make; ${why}): likely impossible, not certain${when}`;
  }
  const outside =
    f.previous !== null
      ? `the static digraph derived from the binary (${f.pairs} ordered pairs its code can make) has no path from ${f.previous} to ${f.call}`
      : `outside the static model derived from the binary (${f.calls} calls its code can make)`;
  return `Impossible ${what} in pid ${f.pid} (${f.path}): ${outside}${when}`;
}

export function staticUnavailableText(path: string, reason: string): string {
  return `No static model of ${path}: ${reason}; it is monitored by its learned profile only`;
}

export function staticDroppedText(n: number): string {
  return `the static analysis queue was full: ${n} executable${n === 1 ? " is" : "s are"} monitored without a static model`;
}

export function droppedText(limit: number, what: string, dropped: number): string {
  return `homeostat is tracking its limit of ${limit} ${what} and drops the events of new ones (${dropped} dropped so far)`;
}

export function lostText(n: number, lost: { kernel: number; capture: number; monitor: number }): string {
  return `the capture lost ${n} system-call events (kernel ${lost.kernel}, capture ${lost.capture}, monitor ${lost.monitor} in total); profiles and alerts miss them`;
}
