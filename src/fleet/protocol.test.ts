// The fleet protocol: names and ids exactly as the contract spells them; messages, snapshots and admin operations
// round-trip through encode and decode; and (fast-check) the decoders turn any bytes, any JSON and any mutation of
// a good message into a value or a HomeostatError with a code, never another exception.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { HostAlert } from "../engine/hostAlerts.js";
import { HomeostatError, isHomeostatError } from "../errors.js";
import type { ResponseAction } from "../response/responder.js";
import {
  type AlertBody,
  bucketConfig,
  decodeAdminOp,
  decodeMessage,
  decodeSnapshot,
  encodeAdminOp,
  encodeHeartbeat,
  encodeMessage,
  encodeSnapshot,
  type FleetEnvelope,
  hostIdFromHostname,
  messageId,
  newAdminOp,
  newRunId,
  parseMessageId,
  parseProfileKey,
  parseSubject,
  profileKey,
  type SnapshotHeader,
  streamConfig,
  STREAM_SUBJECTS,
  subjectFor,
  validateHostId,
} from "./protocol.js";

const ALERT: HostAlert = {
  time: "2024-05-01T10:00:00.000Z",
  rule: "homeostat anomalous system calls",
  priority: "Warning",
  source: "syscall",
  hostname: "web-1",
  tags: ["homeostat", "pH"],
  output: "anomalous calls in /usr/bin/curl (pid 42)",
  output_fields: { "proc.pid": 42, "proc.exepath": "/usr/bin/curl", "homeostat.lfc": 3, "x.list": ["a"], "x.n": null },
};

const ACTION: ResponseAction = {
  time: 1714557600,
  kind: "delay",
  pid: 42,
  tid: 42,
  exe: "/usr/bin/curl",
  lfc: 3,
  outcome: "paused",
  delayMs: 20,
  reason: "3 anomalies in the locality frame",
};

const env = (seq: number, host = "web-1"): FleetEnvelope => ({
  v: 1,
  host,
  run: "0123456789abcdef",
  seq,
  time: 1714557600123,
});

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (err) {
    if (!isHomeostatError(err)) throw err;
    return err.code;
  }
}

describe("names", () => {
  it("spells the stream, subjects and buckets as the contract does", () => {
    expect(streamConfig()).toEqual({
      name: "HOMEOSTAT",
      subjects: ["homeostat.alerts.*", "homeostat.actions.*", "homeostat.heartbeats.*"],
      storage: "file",
      duplicate_window: 120_000_000_000,
      num_replicas: 1,
    });
    expect(streamConfig(3).num_replicas).toBe(3);
    expect(STREAM_SUBJECTS).toHaveLength(3);
    expect(bucketConfig("homeostat_profiles")).toEqual({ history: 1, replicas: 1, storage: "file" });
    expect(bucketConfig("homeostat_pooled", 3)).toEqual({ history: 1, replicas: 3, storage: "file" });
    expect(bucketConfig("homeostat_admin").history).toBe(5);
    expect(subjectFor("alerts", "web-1")).toBe("homeostat.alerts.web-1");
    expect(parseSubject("homeostat.heartbeats.db_2")).toEqual({ kind: "heartbeats", host: "db_2" });
    expect(codeOf(() => parseSubject("homeostat.other.web-1"))).toBe("E_PARSE");
    expect(codeOf(() => parseSubject("homeostat.alerts.web.1"))).toBe("E_PARSE");
  });

  it("validates host ids and derives one from a host name", () => {
    expect(validateHostId("web-1")).toBe("web-1");
    expect(validateHostId("A".repeat(64))).toBe("A".repeat(64));
    for (const bad of ["", "-web", "_pool", "web.1", "web 1", "a".repeat(65), "wéb", "a*", "a>"]) {
      expect(
        codeOf(() => validateHostId(bad)),
        bad,
      ).toBe("E_USAGE");
    }
    expect(hostIdFromHostname("web-1.example.org")).toBe("web-1");
    expect(hostIdFromHostname("my host")).toBe("my-host");
    expect(hostIdFromHostname("_x")).toBe("h_x");
    expect(hostIdFromHostname("")).toBe("h");
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), (name) => {
        expect(validateHostId(hostIdFromHostname(name))).toBeTypeOf("string");
      }),
    );
  });

  it("makes and parses message ids and profile keys", () => {
    const run = newRunId();
    expect(run).toMatch(/^[0-9a-f]{16}$/);
    expect(newRunId()).not.toBe(run);
    expect(messageId("web-1", run, 7)).toBe(`web-1.${run}.7`);
    expect(parseMessageId(`web-1.${run}.7`)).toEqual({ host: "web-1", run, seq: 7 });
    for (const bad of [`web-1.${run}.0`, `web-1.${run}.x`, "web-1.abc.1", `.${run}.1`, `web-1.${run}`]) {
      expect(
        codeOf(() => parseMessageId(bad)),
        bad,
      ).toBe("E_PARSE");
    }
    const program = `b-${"ab".repeat(20)}`;
    expect(profileKey(program, "web-1")).toBe(`${program}.web-1`);
    expect(parseProfileKey(`${program}.web-1`)).toEqual({ program, host: "web-1" });
    expect(parseProfileKey(`s-${"0".repeat(32)}.h`)).toEqual({ program: `s-${"0".repeat(32)}`, host: "h" });
    for (const bad of [program, `x-12.web-1`, `s-123.web-1`, `${program}.`, `${program}.a.b`]) {
      expect(
        codeOf(() => parseProfileKey(bad)),
        bad,
      ).toBe("E_PARSE");
    }
  });
});

describe("messages", () => {
  it("round-trips an alert, an action and a heartbeat with their ids", () => {
    const a = decodeMessage("homeostat.alerts.web-1", encodeMessage("alerts", env(1), JSON.stringify(ALERT)));
    expect(a).toEqual({ kind: "alerts", id: "web-1.0123456789abcdef.1", body: { ...env(1), alert: ALERT } });
    const b = decodeMessage(
      "homeostat.actions.web-1",
      encodeMessage("actions", env(2), JSON.stringify(ACTION)),
      "web-1.0123456789abcdef.2",
    );
    expect(b.body).toEqual({ ...env(2), action: ACTION });
    const hb = {
      started: 1714557000000,
      version: "0.1.0",
      counters: {
        events: 10,
        alerts: 1,
        actions: 1,
        lost: 0,
        profiles: { training: 2, normal: 1 },
        spooled: 0,
        spoolDropped: 0,
      },
    };
    const c = decodeMessage("homeostat.heartbeats.web-1", encodeHeartbeat(env(3), hb));
    expect(c).toEqual({ kind: "heartbeats", id: "web-1.0123456789abcdef.3", body: { ...env(3), ...hb } });
  });

  it("carries an alert's program identity when the host knows it, and refuses one that is not an identity", () => {
    const program = `b-${"ab".repeat(20)}`;
    const bytes = encodeMessage("alerts", { ...env(4), program }, JSON.stringify(ALERT));
    expect(decodeMessage("homeostat.alerts.web-1", bytes).body).toEqual({ ...env(4), program, alert: ALERT });
    for (const bad of ["", "x-12", "b-XY", `s-${"a".repeat(31)}`]) {
      const body = Buffer.from(JSON.stringify({ ...env(4), program: bad, alert: ALERT }));
      expect(codeOf(() => decodeMessage("homeostat.alerts.web-1", body))).toBe("E_PARSE");
    }
  });

  it("refuses a body of another host, kind, id or version", () => {
    const bytes = encodeMessage("alerts", env(1), JSON.stringify(ALERT));
    expect(codeOf(() => decodeMessage("homeostat.alerts.web-2", bytes))).toBe("E_PARSE");
    expect(codeOf(() => decodeMessage("homeostat.actions.web-1", bytes))).toBe("E_PARSE");
    expect(codeOf(() => decodeMessage("homeostat.alerts.web-1", bytes, "web-1.0123456789abcdef.2"))).toBe("E_PARSE");
    const v2 = Buffer.from(JSON.stringify({ ...env(1), v: 2, alert: ALERT }));
    expect(codeOf(() => decodeMessage("homeostat.alerts.web-1", v2))).toBe("E_VERSION");
    const noRule = { ...ALERT } as Partial<HostAlert>;
    delete noRule.rule;
    const err = (() => {
      try {
        decodeMessage("homeostat.alerts.web-1", Buffer.from(JSON.stringify({ ...env(1), alert: noRule })));
      } catch (e) {
        return e as HomeostatError;
      }
    })();
    expect(err?.code).toBe("E_PARSE");
    expect(err?.message).toContain("alert.rule");
  });

  it("decodes any bytes to a message or a coded error (property)", () => {
    const subjects = fc.constantFrom("homeostat.alerts.web-1", "homeostat.actions.web-1", "homeostat.heartbeats.web-1");
    fc.assert(
      fc.property(subjects, fc.uint8Array({ maxLength: 300 }), (subject, bytes) => {
        expect(["E_PARSE", "E_VERSION"]).toContain(codeOf(() => decodeMessage(subject, bytes)));
      }),
    );
    fc.assert(
      fc.property(subjects, fc.jsonValue(), (subject, value) => {
        const code = codeOf(() => decodeMessage(subject, Buffer.from(JSON.stringify(value))));
        expect(["E_PARSE", "E_VERSION"]).toContain(code);
      }),
    );
  });

  it("keeps a good alert's fields through encode and decode, whatever their text (property)", () => {
    const hostArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/);
    fc.assert(
      fc.property(
        hostArb,
        fc.string(),
        fc.string(),
        fc.integer({ min: 1, max: 2 ** 40 }),
        (host, rule, output, seq) => {
          const alert = { ...ALERT, rule, output };
          const m = decodeMessage(
            subjectFor("alerts", host),
            encodeMessage("alerts", env(seq, host), JSON.stringify(alert)),
          );
          expect((m.body as AlertBody).alert).toEqual(alert);
          expect(m.id).toBe(messageId(host, "0123456789abcdef", seq));
        },
      ),
    );
  });

  it("refuses every one-field mutation of a good message with a coded error (property)", () => {
    const good = JSON.parse(Buffer.from(encodeMessage("alerts", env(5), JSON.stringify(ALERT))).toString()) as Record<
      string,
      unknown
    >;
    const keys = ["v", "host", "run", "seq", "time", "alert", "program"];
    const bad = fc.oneof(
      fc.constant(null),
      fc.string().map((s) => `!${s}`),
      fc.constant(-1),
      fc.constant(1.5),
      fc.array(fc.integer()),
    );
    fc.assert(
      fc.property(fc.constantFrom(...keys), bad, (key, value) => {
        fc.pre(!(key === "time" && value === 1.5)); // a fractional time in ms is valid
        const body = Buffer.from(JSON.stringify({ ...good, [key]: value }));
        expect(["E_PARSE", "E_VERSION"]).toContain(codeOf(() => decodeMessage("homeostat.alerts.web-1", body)));
      }),
    );
  });
});

describe("profile snapshots", () => {
  const header: SnapshotHeader = {
    v: 1,
    host: "web-1",
    program: `b-${"12".repeat(20)}`,
    path: "/usr/bin/curl",
    model: "ph:L=9",
    state: "normal",
    trainCount: 1234,
    version: 3,
    time: 1714557600123,
  };

  it("round-trips header and blob in the contract's layout", () => {
    const blob = Uint8Array.from([1, 2, 3, 250]);
    const bytes = encodeSnapshot(header, blob);
    const n = Buffer.from(bytes).readUInt32BE(0);
    expect(JSON.parse(Buffer.from(bytes.subarray(4, 4 + n)).toString("utf8"))).toEqual(header);
    expect([...bytes.subarray(4 + n)]).toEqual([1, 2, 3, 250]);
    expect(decodeSnapshot(bytes)).toEqual({ header, blob });
    expect(decodeSnapshot(encodeSnapshot({ ...header, host: "_pool" }, blob)).header.host).toBe("_pool");
    expect(decodeSnapshot(encodeSnapshot(header, new Uint8Array(0))).blob).toHaveLength(0);
  });

  it("refuses bad headers with a code", () => {
    const blob = new Uint8Array(1);
    for (const h of [
      { ...header, host: "_other" },
      { ...header, program: "curl" },
      { ...header, state: "sleeping" },
      { ...header, trainCount: -1 },
    ]) {
      expect(codeOf(() => decodeSnapshot(encodeSnapshot(h as SnapshotHeader, blob)))).toBe("E_PARSE");
    }
    expect(codeOf(() => decodeSnapshot(encodeSnapshot({ ...header, v: 2 as 1 }, blob)))).toBe("E_VERSION");
    expect(codeOf(() => decodeSnapshot(Uint8Array.from([0, 0, 1])))).toBe("E_PARSE");
    expect(codeOf(() => decodeSnapshot(Uint8Array.from([0, 0, 0, 9, 123])))).toBe("E_PARSE");
  });

  it("decodes any bytes, and any truncation of a good snapshot, to a snapshot or a coded error (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const code = codeOf(() => decodeSnapshot(bytes));
        expect(code === undefined || code === "E_PARSE" || code === "E_VERSION").toBe(true);
      }),
    );
    const good = encodeSnapshot(header, Uint8Array.from([9, 9, 9]));
    const n = Buffer.from(good).readUInt32BE(0);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: good.length }), (cut) => {
        const code = codeOf(() => decodeSnapshot(good.subarray(0, cut)));
        // Cutting only the blob still decodes (the blob is opaque here; the store's reader checks it).
        expect(code).toBe(cut >= 4 + n ? undefined : "E_PARSE");
      }),
    );
  });
});

describe("admin operations", () => {
  it("round-trips and refuses unknown operations", () => {
    const op = newAdminOp("normalize", 1714557600123);
    expect(op.id).toMatch(/^[0-9a-f]{24}$/);
    expect(decodeAdminOp(encodeAdminOp(op))).toEqual(op);
    expect(newAdminOp("reset", 0).id).not.toBe(op.id);
    expect(codeOf(() => decodeAdminOp(Buffer.from(JSON.stringify({ ...op, op: "delete" }))))).toBe("E_PARSE");
    expect(codeOf(() => decodeAdminOp(Buffer.from(JSON.stringify({ ...op, id: "" }))))).toBe("E_PARSE");
    expect(codeOf(() => decodeAdminOp(Buffer.from(JSON.stringify({ ...op, v: 3 }))))).toBe("E_VERSION");
  });

  it("decodes any JSON to an operation or a coded error (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const code = codeOf(() => decodeAdminOp(Buffer.from(JSON.stringify(value) ?? "")));
        expect(code === "E_PARSE" || code === "E_VERSION").toBe(true);
      }),
    );
  });
});
