import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { scoreTrace } from "../detect/traceScore.js";
import { loadTraces } from "../ingest/loadTraces.js";
import { createDetector } from "../models/registry.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import { captureStrace, straceUnavailableReason } from "../ingest/testing/straceCapture.js";
import { type MonitoredAlarm, monitorCommand } from "./commandMonitor.js";

const unavailable = straceUnavailableReason();
if (unavailable !== undefined) console.log(`skipping live monitoring tests: ${unavailable}`);

describe.skipIf(unavailable !== undefined)("monitorCommand (real strace)", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-mon-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // A profile of `cat FILE`, trained on real captures of it.
  async function catProfile() {
    const vocab = new Vocabulary();
    const files: string[] = [];
    for (let i = 0; i < 3; i++) {
      const cap = captureStrace(["-f"], ["cat", "/etc/hostname"]);
      const f = join(dir, `cat${i}.txt`);
      writeFileSync(f, cap.text);
      files.push(f);
    }
    const { traces } = await loadTraces(files, vocab);
    const detector = createDetector("stide", { k: 6 });
    detector.train(traces.map((t) => t.calls));
    return { detector, vocab };
  }

  it("a run like the training runs is quiet; a different program alarms, naming its window", async () => {
    const { detector, vocab } = await catProfile();
    const quiet = await monitorCommand({
      command: ["cat", "/etc/hostname"],
      detector,
      vocabulary: vocab,
      rule: { measure: "lfc", threshold: 0 },
      env: process.env,
    }).done;
    expect(quiet.capture.exitCode).toBe(0);
    expect(quiet.alarms).toBe(0);
    expect(quiet.streams[0]!.summary.calls).toBeGreaterThan(10);

    const alarms: MonitoredAlarm[] = [];
    const loud = await monitorCommand({
      command: ["sh", "-c", "cat /etc/hostname >/dev/null; ls / >/dev/null"],
      detector,
      vocabulary: vocab,
      rule: { measure: "lfc", threshold: 0 },
      onAlarm: (a) => alarms.push(a),
    }).done;
    expect(loud.alarms).toBeGreaterThan(0);
    expect(alarms).toHaveLength(loud.alarms);
    const a = alarms[0]!;
    expect(a.window.length).toBeGreaterThan(0);
    expect(a.window.length).toBeLessThanOrEqual(20);
    expect(loud.streams.map((s) => s.stream)).toContain(a.stream);
    // The summary per stream adds up to the alarms raised.
    expect(loud.streams.reduce((n, s) => n + s.alarms, 0)).toBe(loud.alarms);
  });

  it("scores one capture with several models side by side, each as batch scoring of the same calls would", async () => {
    const vocab = new Vocabulary();
    const files: string[] = [];
    for (let i = 0; i < 3; i++) {
      const f = join(dir, `multi${i}.txt`);
      writeFileSync(f, captureStrace(["-f"], ["cat", "/etc/hostname"]).text);
      files.push(f);
    }
    const { traces } = await loadTraces(files, vocab);
    const stide = createDetector("stide", { k: 6 });
    const lookahead = createDetector("lookahead", { L: 9 });
    for (const d of [stide, lookahead]) d.train(traces.map((t) => t.calls));
    const alarms: MonitoredAlarm[] = [];
    let tapped = 0;
    const r = await monitorCommand({
      command: ["sh", "-c", "cat /etc/hostname >/dev/null; ls / >/dev/null"],
      models: [
        { name: "stide", detector: stide, rule: { measure: "lfc", threshold: 0 } },
        { name: "lookahead", detector: lookahead, rule: { measure: "lfc", threshold: 0 } },
      ],
      vocabulary: vocab,
      keepSignals: true,
      onCall: () => tapped++,
      onAlarm: (a) => alarms.push(a),
    }).done;
    expect(tapped).toBe(r.capture.calls);
    expect(new Set(alarms.map((a) => a.model))).toEqual(new Set(["stide", "lookahead"]));
    expect(r.alarms).toBe(alarms.length);
    let calls = 0;
    for (const s of r.streams) {
      expect(s.models.map((m) => m.model)).toEqual(["stide", "lookahead"]);
      expect(s.alarms).toBe(s.models[0]!.alarms + s.models[1]!.alarms);
      expect(s.calls!.length).toBe(s.summary.calls);
      calls += s.calls!.length;
      for (const [i, d] of [stide, lookahead].entries()) {
        const m = s.models[i]!;
        expect(m.signals!.length).toBe(s.calls!.length);
        // Live and batch scoring of the same calls agree (the calls kept are the ones scored).
        const batch = scoreTrace(d, s.calls!);
        expect(m.summary.maxLfc).toBe(batch.maxLfc);
        expect(m.summary.anomalies).toBe(batch.anomalies);
      }
    }
    expect(calls).toBe(r.capture.calls);
  });

  it("rejects a model list that is empty or given beside a single detector", () => {
    const vocab = new Vocabulary();
    const d = createDetector("stide");
    const rule = { measure: "lfc", threshold: 0 } as const;
    expect(() => monitorCommand({ command: ["true"], models: [], vocabulary: vocab })).toThrow(/no model/);
    expect(() =>
      monitorCommand({
        command: ["true"],
        detector: d,
        rule,
        models: [{ name: "x", detector: d, rule }],
        vocabulary: vocab,
      }),
    ).toThrow(/not both/);
    expect(() => monitorCommand({ command: ["true"], detector: d, vocabulary: vocab })).toThrow(/alarm rule/);
  });

  it("passes arguments literally: shell metacharacters are not interpreted", async () => {
    const { detector, vocab } = await catProfile();
    const marker = join(dir, "pwned");
    const r = await monitorCommand({
      command: ["echo", `a; touch ${marker}`, "$(touch x)"],
      detector,
      vocabulary: vocab,
      rule: { measure: "lfc", threshold: 0 },
    }).done;
    expect(r.capture.exitCode).toBe(0);
    expect(() => readFileSync(marker)).toThrow();
  });
});
