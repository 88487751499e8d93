// The capture backend a watch reads from: bpftrace on the whole host (eBPF), or strace on one command or pid. Both
// feed the same event sink; this picks one from the options and says what the rest of watch needs of it.

import { startBpftraceCapture } from "../capture/bpftraceCapture.js";
import type { HostCapture, HostEventSink } from "../capture/hostEvents.js";
import { startStraceHostCapture } from "../capture/straceHostCapture.js";
import type { StraceCaptureResult } from "../capture/straceCapture.js";
import { HomeostatError } from "../errors.js";

export type WatchBackend = "bpftrace" | "strace";

export interface WatchCaptureOptions {
  backend: WatchBackend;
  /** strace backend: the command to run, or the pid to attach to. */
  command?: readonly string[];
  pid?: number;
  ringBufferPages?: number;
  programOutput?: "inherit" | "ignore";
  env?: NodeJS.ProcessEnv;
  onMessage?: (line: string) => void;
}

export interface WatchCapture {
  capture: HostCapture;
  /** The tracer's pid (strace or bpftrace): never acted on. */
  tracerPid: number | undefined;
  /** Resolves when the capture is attached (bpftrace's probes; at once for strace); rejects when it failed. */
  ready: Promise<void>;
  /** The watched command's exit status (strace backend with a command). */
  commandResult?: Promise<StraceCaptureResult>;
}

/** Starts the backend the options name, feeding `sink`; watch's own pid is never traced. */
export function startWatchCapture(options: WatchCaptureOptions, sink: HostEventSink): WatchCapture {
  const common = {
    sink,
    ...(options.env !== undefined ? { env: options.env } : {}),
    ...(options.onMessage !== undefined ? { onMessage: options.onMessage } : {}),
  };
  if (options.backend === "strace") {
    const c = startStraceHostCapture({
      ...common,
      ...(options.command !== undefined ? { command: options.command } : {}),
      ...(options.pid !== undefined ? { pid: options.pid } : {}),
      ...(options.programOutput !== undefined ? { programOutput: options.programOutput } : {}),
    });
    return { capture: c, tracerPid: c.tracerPid, ready: Promise.resolve(), commandResult: c.result };
  }
  if (options.command !== undefined || options.pid !== undefined) {
    throw new HomeostatError(
      "E_USAGE",
      "the bpftrace backend watches the whole host: a command or --pid needs --backend strace",
    );
  }
  const c = startBpftraceCapture({
    ...common,
    excludePids: [process.pid],
    ...(options.ringBufferPages !== undefined ? { ringBufferPages: options.ringBufferPages } : {}),
  });
  // A failed start rejects `done` too, with the same reason; `ready` is only for waiting.
  c.ready.catch(() => {});
  return { capture: c, tracerPid: c.tracerPid, ready: c.ready };
}
