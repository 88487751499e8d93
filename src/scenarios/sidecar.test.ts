import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseLidds2021RecordingJson } from "../ingest/liddsMetadata.js";
import { buildSidecar } from "./sidecar.js";
import { traceFacts } from "./traceCheck.js";
import type { RecordingSpec } from "./types.js";

const dir = mkdtempSync(path.join(tmpdir(), "homeostat-sidecar-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TRACE = [
  '100 1700000000.100000 execve("/bin/sh", ["sh"], 0x7ffd /* 3 vars */) = 0',
  '100 1700000000.200000 read(0, "x", 1) = 1',
  "100 1700000000.300000 clone(child_stack=NULL, flags=SIGCHLD) = 101",
  '101 1700000000.400000 execve("/usr/bin/id", ["id"], 0x7ffd /* 3 vars */) = 0',
  "101 1700000000.500000 exit_group(0) = ?",
  "101 1700000000.500100 +++ exited with 0 +++",
  "100 1700000000.600000 wait4(-1, NULL, 0, NULL) = 101",
  "",
].join("\n");

describe("trace facts and the LID-DS sidecar", () => {
  it("reads a recording back with homeostat's parser: calls, processes, programs, calls around the attack", async () => {
    const file = path.join(dir, "t.strace");
    writeFileSync(file, TRACE);
    const facts = await traceFacts(file, 1700000000.35);
    expect(facts).toMatchObject({ calls: 6, processes: 2, firstTime: 1700000000.1, lastTime: 1700000000.6 });
    expect(facts.programs).toEqual(["/bin/sh", "/usr/bin/id"]);
    expect([facts.callsBefore, facts.callsAfter]).toEqual([3, 3]);
  });

  it("writes an attack sidecar that LID-DS's 2021 recording-json reader takes, with the attack's time", async () => {
    const file = path.join(dir, "a.strace");
    writeFileSync(file, TRACE);
    const facts = await traceFacts(file, 1700000000.35);
    const spec: RecordingSpec = {
      program: "demo",
      split: "test/normal_and_attack",
      index: 0,
      name: "demo-attack-001",
      seed: 9,
      actions: 2,
      attack: "shell",
    };
    const run = {
      started: 1700000000.05,
      ended: 1700000000.7,
      attack: { kind: "shell", time: 1700000000.35, command: "id", evidence: "proof", dataOnly: false },
    };
    const plan = { seed: 9, actions: ["a", "b"], attack: { kind: "shell", at: 1 } };
    const json = buildSidecar({ spec, image: "demo/1.0", plan, workload: ["a", "b"], run, facts });
    const meta = parseLidds2021RecordingJson(JSON.stringify(json), "demo-attack-001.json");
    expect(meta).toMatchObject({
      exploit: true,
      exploitName: "shell",
      image: "demo/1.0",
      attackTime: 1700000000.35,
      recordingTime: 0.65,
    });
    expect(json.homeostat).toMatchObject({
      scenario: "demo",
      seed: 9,
      workload: ["a", "b"],
      attack: { kind: "shell", actionsBefore: 1, actionsAfter: 1 },
    });
  });

  it("writes a normal sidecar without exploit time", async () => {
    const file = path.join(dir, "n.strace");
    writeFileSync(file, TRACE);
    const facts = await traceFacts(file);
    const spec: RecordingSpec = {
      program: "demo",
      split: "training",
      index: 0,
      name: "demo-train-001",
      seed: 3,
      actions: 1,
    };
    const json = buildSidecar({
      spec,
      image: "demo/1.0",
      plan: { seed: 3, actions: ["a"] },
      workload: ["a"],
      run: { started: 1, ended: 2 },
      facts,
    });
    const meta = parseLidds2021RecordingJson(JSON.stringify(json), "demo-train-001.json");
    expect(meta.exploit).toBe(false);
    expect(meta.attackTime).toBeUndefined();
    expect(json).not.toHaveProperty("time");
  });
});
