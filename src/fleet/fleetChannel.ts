// The main thread's side of the fleet publishing worker (fleetWorker.ts): messages written into the shared ring as
// they come (the engine's turn pays a UTF-8 copy), the worker told once per turn where they are, figures read from
// shared memory, connection news passed on. Watch closes it at its end: the worker sends what it can within the
// drain time, keeps the rest in the spool, and ends.

import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";
import { HomeostatError } from "../errors.js";
import { SharedRing } from "../watch/outputs/sharedRing.js";
import type { FleetLinkStats } from "./fleetLink.js";
import type { FleetKind } from "./fleetNames.js";
import type { FleetPublisherStats } from "./fleetPublisher.js";
import {
  ALERT_WITH_PROGRAM,
  CONSUMED,
  F,
  FIELDS,
  type FleetWorkerConfig,
  type FromWorker,
  HANDSHAKE,
  KIND_LETTER,
  OPEN,
  OPENING,
  type ToWorker,
} from "./fleetWorker.js";

/**
 * The worker's script: fleetWorker's compiled JavaScript. From dist/ it is beside this file; under vitest (this file
 * is src/fleet/fleetChannel.ts) it is dist/fleet/fleetWorker.js, built by `npm run build`.
 */
export function fleetWorkerScript(): URL {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith(".js")) return new URL("./fleetWorker.js", import.meta.url);
  const m = /^(.*)[\\/]src[\\/]fleet[\\/]fleetChannel\.ts$/.exec(here);
  if (m === null) {
    throw new HomeostatError("E_DEPENDENCY", `cannot tell where the built fleet worker is (this module is ${here})`);
  }
  return pathToFileURL(`${m[1]}/dist/fleet/fleetWorker.js`);
}

export type FleetChannelOptions = Omit<
  FleetWorkerConfig,
  "homeostatFleetPublisher" | "state" | "figures" | "ring" | "port"
> & {
  /** Connection news: up, down (with the reason), a failed attempt. */
  onEvent?: (e: FromWorker) => void;
  /** Milliseconds the opening may take (default 60 s: a 64 MiB spool is read and checked). */
  openTimeoutMs?: number;
};

export class FleetChannel {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly figures: Float64Array;
  private readonly state: Int32Array;
  private readonly ring: SharedRing;
  /** This turn's lines that did not fit the ring. */
  private lines: string[] = [];
  private flushScheduled = false;
  /** Characters posted as strings, and messages refused here (the worker behind by a spool's worth, or gone). */
  private posted = 0;
  private refused = 0;
  private lastError: string | undefined;
  private dead: string | undefined;
  private closing: Promise<void> | undefined;

  /** Starts the worker and waits until it has opened the spool; throws (typed) when it cannot. */
  constructor(private readonly options: FleetChannelOptions) {
    const script = fleetWorkerScript();
    if (script.protocol === "file:" && !existsSync(fileURLToPath(script))) {
      throw new HomeostatError("E_DEPENDENCY", `the fleet worker ${fileURLToPath(script)} is missing (npm run build)`);
    }
    const stateBuffer = new SharedArrayBuffer(8);
    const figures = new SharedArrayBuffer(FIELDS * 8);
    const ring = new SharedArrayBuffer(Math.min(Math.max(options.spoolMaxBytes, 1 << 20), 8 << 20));
    const channel = new MessageChannel();
    const { onEvent: _onEvent, openTimeoutMs, ...rest } = options;
    const config: FleetWorkerConfig = {
      ...rest,
      homeostatFleetPublisher: true,
      state: stateBuffer,
      figures,
      ring,
      port: channel.port2,
    };
    this.worker = new Worker(script, { workerData: config, transferList: [channel.port2] });
    this.port = channel.port1;
    this.figures = new Float64Array(figures);
    const state = new Int32Array(stateBuffer);
    this.state = state;
    this.ring = new SharedRing(Buffer.from(ring), state, CONSUMED, (segment) =>
      this.port.postMessage(segment satisfies ToWorker),
    );
    Atomics.wait(state, HANDSHAKE, OPENING, openTimeoutMs ?? 60_000);
    if (Atomics.load(state, HANDSHAKE) !== OPEN) {
      const failure = receiveMessageOnPort(this.port)?.message as FromWorker | undefined;
      void this.worker.terminate();
      this.port.close();
      if (failure?.kind === "failed") throw new HomeostatError(failure.code, failure.message);
      throw new HomeostatError("E_IO", `the fleet spool in ${options.spoolDir} could not be opened in time`);
    }
    this.port.on("message", (m: FromWorker) => {
      if (m.kind === "error") this.lastError = m.text;
      else options.onEvent?.(m);
    });
    // The worker does not keep watch alive on its own: watch closes it at its end.
    this.worker.unref();
    this.port.unref();
    this.worker.on("error", (err) => this.died(err.message));
    this.worker.on("exit", (code) => this.died(`exit code ${code}`));
  }

  /**
   * Hands one message over (the worker gets it with the others of this turn); `program`: an alert's program
   * identity, when known.
   */
  send(kind: FleetKind, json: string, program?: string): void {
    if (this.closing !== undefined || this.dead !== undefined) {
      this.refused++;
      return;
    }
    let letter = KIND_LETTER[kind];
    if (program !== undefined && kind === "alerts") {
      letter = ALERT_WITH_PROGRAM;
      json = `${program} ${json}`;
    }
    if (this.lines.length > 0 || !this.ring.write(json, letter.charCodeAt(0))) {
      if (this.posted - this.figures[F.taken]! + json.length > this.options.spoolMaxBytes) {
        this.refused++;
        return;
      }
      this.lines.push(letter + json);
      this.posted += json.length + 2;
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Sends this turn's messages: where they are in the ring, then those that did not fit it. */
  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.dead !== undefined) return;
    this.ring.postSegment();
    if (this.lines.length === 0) return;
    const text = this.lines.join("\n");
    this.lines = [];
    this.posted -= 1; // one newline fewer than lines: the worker counts the text's length
    this.port.postMessage({ kind: "lines", text } satisfies ToWorker);
  };

  get stats(): FleetPublisherStats {
    const f = this.figures;
    return {
      made: f[F.made]!,
      published: f[F.published]!,
      duplicates: f[F.duplicates]!,
      replayed: f[F.replayed]!,
      rejected: f[F.rejected]!,
      spooled: f[F.spooled]!,
      spoolDropped: f[F.spoolDropped]! + this.refused,
      inflight: f[F.inflight]!,
      queued: f[F.queued]!,
      lastError: this.dead ?? this.lastError,
    };
  }

  get link(): FleetLinkStats {
    const f = this.figures;
    return {
      connected: f[F.connected] === 1,
      connects: f[F.connects]!,
      failures: f[F.failures]!,
      lastError: this.lastError,
    };
  }

  /** Hands over what is left, lets the worker send for up to `drainMs`, close the spool, and end. */
  close(drainMs: number): Promise<void> {
    this.closing ??= this.shut(drainMs);
    return this.closing;
  }

  private async shut(drainMs: number): Promise<void> {
    this.flush();
    if (this.dead === undefined) {
      this.port.ref();
      const closed = new Promise<void>((resolve) => {
        this.port.on("message", (m: FromWorker) => {
          if (m.kind === "closed") resolve();
        });
        this.port.once("close", () => resolve());
        this.worker.once("exit", () => resolve());
      });
      this.port.postMessage({ kind: "close", drainMs } satisfies ToWorker);
      await closed;
    }
    await this.worker.terminate();
    this.port.close();
  }

  private died(why: string): void {
    if (this.dead !== undefined || this.closing !== undefined) return;
    this.dead = `the fleet worker stopped (${why})`;
    this.lines = [];
  }
}
