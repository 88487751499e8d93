// The HTTP output in its worker thread (httpWorker.ts), as watch runs it: a real worker running the build (dist/,
// made by `npm run build`), a real receiver on a port from the OS, real timers (a tiny backoff, awaited with
// `until`, never a fixed sleep). The batch framing it uses (AlertSpool.appendLines) is checked against the record
// format by property in alertSpool.test.ts.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { HostAlert } from "../../engine/hostMonitor.js";
import { isHomeostatError } from "../../errors.js";
import { until } from "../../response/testing/waits.js";
import { AlertOutputs, SPOOL_OVERFLOW_RULE } from "./alertOutputs.js";
import { parseSpoolHeader, parseSpoolRecords } from "./spoolRecord.js";

const root = mkdtempSync(join(tmpdir(), "homeostat-http-worker-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function alert(n: number, text = `alert ${n}`): HostAlert {
  return {
    time: new Date(1_700_000_000_000 + n * 1000).toISOString(),
    rule: "Anomalous system calls",
    priority: "Warning",
    source: "syscall",
    hostname: "test-host",
    tags: ["homeostat"],
    output: text,
    output_fields: { "evt.time": 1_700_000_000 + n, "homeostat.n": n },
  };
}

/** A receiver recording what it takes; answers `status`. */
async function receiver(): Promise<{ got: HostAlert[]; status: number; port: number; stop: () => Promise<void> }> {
  const r = { got: [] as HostAlert[], status: 200, port: 0, stop: async () => {} };
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      if (r.status === 200) r.got.push(JSON.parse(body) as HostAlert);
      res.writeHead(r.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  r.port = (server.address() as AddressInfo).port;
  r.stop = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return r;
}

describe("the HTTP output in a worker thread", () => {
  it("delivers every alert once, in order, across turns and a restart; figures are read from the worker", async () => {
    const dir = join(root, "in-order");
    const rx = await receiver();
    rx.status = 503; // down at first: alerts wait in the spool
    let outputs = await AlertOutputs.open({}, { spoolDir: dir, backoff: { initialMs: 5, maxMs: 20 } });
    outputs.startHttp({ url: new URL(`http://127.0.0.1:${rx.port}/`), spoolMaxBytes: 1 << 20 });
    // Non-ASCII text too: the ring carries UTF-8.
    for (let i = 0; i < 30; i++) outputs.alert(alert(i, `alert ${i} é ✓ 😀`));
    await until("the alerts to be spooled", () => outputs.stats.http!.spooled === 30);
    // The failure's figures are shared memory; its text comes as a message, a moment later.
    await until("a failed attempt, and why", () => outputs.stats.http!.lastError === "HTTP 503");
    expect(outputs.stats.http!.failures).toBeGreaterThan(0);
    await outputs.close(0);
    outputs = await AlertOutputs.open({}, { spoolDir: dir, backoff: { initialMs: 5, maxMs: 20 } });
    outputs.startHttp({ url: new URL(`http://127.0.0.1:${rx.port}/`), spoolMaxBytes: 1 << 20 });
    expect(outputs.stats.http!.replayed).toBe(30);
    rx.status = 200;
    for (let turn = 0; turn < 5; turn++) {
      for (let i = 0; i < 40; i++) outputs.alert(alert(30 + turn * 40 + i));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await until("all 230 alerts to arrive", () => rx.got.length === 230);
    await outputs.close(1000);
    await rx.stop();
    expect(rx.got.map((a) => a.output_fields["homeostat.n"])).toEqual([...Array(230).keys()]);
    expect(rx.got[1]).toEqual(alert(1, "alert 1 é ✓ 😀"));
    expect(outputs.stats.http).toMatchObject({ delivered: 230, spoolPending: 0, overflowed: 0, spooled: 200 });
  });

  it("a full spool refuses and counts what does not fit, and the overflow alert says so", async () => {
    const dir = join(root, "full");
    const rx = await receiver();
    rx.status = 500;
    const outputs = await AlertOutputs.open({}, { spoolDir: dir, backoff: { initialMs: 60_000 } });
    outputs.startHttp({ url: new URL(`http://127.0.0.1:${rx.port}/`), spoolMaxBytes: 4096 });
    for (let i = 0; i < 300; i++) outputs.alert(alert(i));
    await until("every alert to be taken or refused", () => {
      const s = outputs.stats.http!;
      return s.spoolPending + s.overflowed === 300;
    });
    const s = outputs.stats.http!;
    expect(s.spoolBytes).toBeLessThanOrEqual(4096);
    expect(s.overflowed).toBeGreaterThan(200);
    const raised: string[] = [];
    outputs.tick({ raise: (rule) => raised.push(rule) });
    expect(raised).toEqual([SPOOL_OVERFLOW_RULE]);
    await outputs.close(0);
    await rx.stop();
    // What is on disk is the first alerts, whole, in order.
    const data = readFileSync(join(dir, "alerts-http.spool"));
    const header = parseSpoolHeader(data)!;
    const parsed = parseSpoolRecords(data.subarray(header.length), header.length);
    expect(parsed).toMatchObject({ damaged: 0, torn: false });
    expect(parsed.records.map((r) => (JSON.parse(r.payload) as HostAlert).output)).toEqual(
      Array.from({ length: s.spoolPending }, (_, i) => `alert ${i}`),
    );
  });

  it("takes a turn of alerts larger than its shared ring (the rest in a buffer of their own), every one in order", async () => {
    const dir = join(root, "beyond-ring");
    const rx = await receiver();
    const outputs = await AlertOutputs.open({}, { spoolDir: dir });
    // The ring is 1 MiB for a spool this size; a turn of 1,500 alerts of about 1 KB (reserved 3 bytes a character)
    // does not fit it.
    outputs.startHttp({ url: new URL(`http://127.0.0.1:${rx.port}/`), spoolMaxBytes: 8 << 20 });
    const pad = "x".repeat(900);
    for (let i = 0; i < 1500; i++) outputs.alert(alert(i, `alert ${i} ${i % 7 === 0 ? "é ✓ 😀" : ""} ${pad}`));
    await until("the 1,500 alerts to be spooled", () => outputs.stats.http!.spooled === 1500, 60_000);
    await until("the 1,500 alerts to arrive", () => rx.got.length === 1500, 120_000);
    await outputs.close(1000);
    await rx.stop();
    expect(rx.got.map((a) => a.output_fields["homeostat.n"])).toEqual([...Array(1500).keys()]);
    expect(rx.got[7]!.output).toBe(`alert 7 é ✓ 😀 ${pad}`);
    expect(outputs.stats.http).toMatchObject({ delivered: 1500, overflowed: 0 });
  }, 180_000);

  it.skipIf(process.platform !== "linux")("runs at a lower scheduling priority than the engine (nice 10)", async () => {
    const niceOf = (tid: string) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "latin1");
      return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
    };
    const niced = () => readdirSync("/proc/self/task").filter((tid) => niceOf(tid) === 10).length;
    const before = niced();
    const outputs = await AlertOutputs.open({}, { spoolDir: join(root, "nice") });
    outputs.startHttp({ url: new URL("http://127.0.0.1:9/"), spoolMaxBytes: 4096 });
    try {
      // The worker lowers its own priority as it starts, before it says the spool is open.
      expect(niced()).toBe(before + 1);
      expect(niceOf(String(process.pid))).toBe(0);
    } finally {
      await outputs.close(0);
    }
  });

  it("a spool that cannot be opened throws at startHttp, typed, as the in-process one does", async () => {
    const file = join(root, "not-a-dir");
    writeFileSync(file, "x");
    const outputs = await AlertOutputs.open({}, { spoolDir: file });
    let caught: unknown;
    try {
      outputs.startHttp({ url: new URL("http://127.0.0.1:9/"), spoolMaxBytes: 4096 });
    } catch (err) {
      caught = err;
    }
    expect(isHomeostatError(caught)).toBe(true);
    expect(outputs.stats.http).toBeUndefined();
    await outputs.close(0);
  });
});
