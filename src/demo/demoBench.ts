// The demo's bench: the vulnerable target server (demo/kvserver.c, built by target.ts) started on a free port under
// strace, with the sessions of a step run against it while the capture feeds the step's sink.

import { mkdirSync, readFileSync } from "node:fs";
import { startStraceCapture } from "../capture/straceCapture.js";
import { HomeostatError } from "../errors.js";
import { freePort } from "./freePort.js";
import type { EventSink } from "../ingest/event.js";
import type { Vocabulary } from "../syscalls/vocabulary.js";

/** What every step of the demo shares: the target, its scratch folder, one vocabulary, the progress callback. */
export interface DemoBench {
  binary: string;
  work: string;
  vocab: Vocabulary;
  say: (message: string) => void;
}

/** Waits until something listens on 127.0.0.1:port (read from /proc, so no probe session is opened). */
export async function listening(port: number, timeoutMs = 10_000): Promise<void> {
  const needle = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")} 00000000:0000 0A`;
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (readFileSync("/proc/net/tcp", "utf8").includes(needle)) return;
    await new Promise<void>((r) => setTimeout(r, 20));
  }
  throw new HomeostatError("E_IO", `the demo server did not listen on port ${port} within ${timeoutMs} ms`);
}
/** Runs the server under strace with `sink`, does `work` against it, then stops it and waits for the capture. */
export async function underCapture(
  binary: string,
  dataDir: string,
  vocab: Vocabulary,
  sink: EventSink,
  work: (port: number) => Promise<void>,
): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const capture = startStraceCapture({
    command: [binary, String(port), dataDir],
    sink,
    vocab,
    programOutput: "ignore",
    graceMs: 2000,
  });
  try {
    await listening(port);
    await work(port);
  } finally {
    capture.stop();
    await capture.done;
  }
}
