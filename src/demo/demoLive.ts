// The demo's live runs: held-out normal sessions, then the exploit, each watched call by call against every trained
// model as it happens (the same stream scorer as `homeostat detect`), with the traces and the mapped images kept
// for the static model's verdict and the mimicry search.

import { rmSync } from "node:fs";
import path from "node:path";
import { alarmWindowTokens } from "../detect/alarm.js";
import { StreamScorer } from "../detect/streamScorer.js";
import { type EventSink, TeeSink } from "../ingest/event.js";
import { type Trace, TraceCollector } from "../ingest/traceCollector.js";
import { type DemoBench, underCapture } from "./demoBench.js";
import type { DemoAlarm } from "./demoResult.js";
import type { TrainedModel } from "./demoTraining.js";
import { runExploit } from "./exploitClient.js";
import { runNormalWorkload } from "./normalClient.js";
import { ImageTracker } from "./staticCheck.js";

/** What a live run saw: the alarms raised, the traces, the images each process mapped. */
export interface LiveRun {
  alarms: DemoAlarm[];
  traces: Trace[];
  images: ImageTracker;
}

/** The two live runs: held-out normal sessions and the exploit, whose proof file tells whether it worked. */
export interface Watched {
  held: LiveRun;
  attacked: LiveRun;
  proof: string;
}

/** Watches held-out normal sessions, then the exploit, live against the trained models. */
export async function watchHeldAndExploit(
  bench: DemoBench,
  detectors: TrainedModel[],
  nHeld: number,
  seed: number,
): Promise<Watched> {
  bench.say(`watching ${nHeld} held-out normal sessions live`);
  const held = await watchLive(bench, detectors, "data-held", async (port) => {
    await runNormalWorkload({ port, sessions: nHeld, seed: seed + 2000 });
  });
  bench.say("watching the exploit live (stack overflow over a function pointer, then system() in the server)");
  const proof = path.join(bench.work, "pwned");
  rmSync(proof, { force: true });
  const attacked = await watchLive(bench, detectors, "data-exploit", async (port) => {
    await runExploit({ port, binary: bench.binary, command: `id > ${proof}` });
  });
  return { held, attacked, proof };
}

/** Runs `job` against the server under capture, scoring every call live with every model. */
async function watchLive(
  bench: DemoBench,
  detectors: TrainedModel[],
  dir: string,
  job: (port: number) => Promise<void>,
): Promise<LiveRun> {
  const alarms: DemoAlarm[] = [];
  const collector = new TraceCollector();
  const images = new ImageTracker(bench.vocab);
  const scorers = detectors.map(
    (d) =>
      new StreamScorer(d.detector, {
        alarm: { measure: "lfc", threshold: d.threshold },
        context: 12,
        onAlarm: (a) =>
          alarms.push({
            model: d.kind,
            pid: a.stream,
            position: a.position,
            lfc: a.lfc,
            threshold: a.threshold,
            window: alarmWindowTokens(a, bench.vocab),
          }),
      }),
  );
  const scoring: EventSink = {
    beginSource() {},
    call(stream: number, syscall: number) {
      for (const s of scorers) s.push(stream, syscall);
    },
    note() {},
    endSource() {},
  };
  const sink = new TeeSink([scoring, collector, images]);
  await underCapture(bench.binary, path.join(bench.work, dir), bench.vocab, sink, job);
  return { alarms, traces: collector.traces, images };
}
