// Alert delivery over HTTP against a real receiver on a port from the OS; time (the backoff between retries) is a
// manual clock, so that a test says when a retry happens instead of waiting for it.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { HostAlert } from "../../engine/hostMonitor.js";
import { ManualClock } from "../../response/testing/manualClock.js";
import { until } from "../../response/testing/waits.js";
import { AlertOutputs, SPOOL_OVERFLOW_RULE } from "./alertOutputs.js";
import { backoffDelay } from "./backoff.js";
import { ScriptedServer } from "./testing/scriptedServer.js";

const root = mkdtempSync(join(tmpdir(), "homeostat-delivery-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function alert(n: number): HostAlert {
  return {
    time: new Date(1_700_000_000_000 + n * 1000).toISOString(),
    rule: "Anomalous system calls",
    priority: "Warning",
    source: "syscall",
    hostname: "test-host",
    tags: ["homeostat"],
    output: `alert ${n}`,
    output_fields: { "evt.time": 1_700_000_000 + n, "homeostat.n": n },
  };
}

/** A receiver that records the alerts it takes, answering `status()` (200 by default). */
class Receiver {
  readonly got: HostAlert[] = [];
  attempts = 0;
  status = 200;
  /** The status of attempt `n` (from 0), when set; else `status`. */
  statusOf: ((n: number) => number) | undefined;
  /** Answers with Connection: close, as a receiver that does not keep connections open does. */
  closeEach = false;
  private server: http.Server | undefined;

  async start(port = 0): Promise<number> {
    const server = http.createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => (body += c));
      req.on("end", () => {
        const status = this.statusOf?.(this.attempts) ?? this.status;
        this.attempts++;
        if (status === 200) this.got.push(JSON.parse(body) as HostAlert);
        res.writeHead(status, this.closeEach ? { connection: "close" } : {}).end();
      });
    });
    this.server = server;
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
    return (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (s === undefined) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

const half = () => 0.5;

async function openOutputs(dir: string, port: number, clock: ManualClock, spoolMaxBytes = 1 << 20) {
  const outputs = await AlertOutputs.open({}, { spoolDir: dir, clock, backoff: { random: half }, timeoutMs: 5_000 });
  outputs.startHttp({ url: new URL(`http://127.0.0.1:${port}/`), spoolMaxBytes });
  return outputs;
}

describe("alert delivery over HTTP", () => {
  it("a receiver down for the first half of a run (and a restart meanwhile) gets every alert once, in order", async () => {
    const dir = join(root, "down-then-up");
    const clock = new ManualClock();
    const receiver = new Receiver();
    const port = await receiver.start();
    await receiver.stop(); // down: the port refuses connections
    let outputs = await openOutputs(dir, port, clock);
    for (let i = 0; i < 25; i++) outputs.alert(alert(i));
    // Each failure waits longer before the next try (exponential backoff).
    const waits: number[] = [];
    for (let retry = 0; retry < 4; retry++) {
      await until("the sink to fail and wait for a retry", () => outputs.stats.http!.backingOff);
      waits.push(clock.pending()[0]!);
      clock.advance(clock.pending()[0]!);
    }
    expect(waits).toEqual([0, 1, 2, 3].map((a) => backoffDelay(a, { random: half })));
    expect(waits[3]).toBeGreaterThan(waits[0]!);
    await until("the sink to fail again", () => outputs.stats.http!.backingOff);
    // watch restarts while the receiver is still down: the spool keeps what was not delivered.
    await outputs.close(0);
    outputs = await openOutputs(dir, port, clock);
    expect(outputs.stats.http!.replayed).toBe(25);
    for (let i = 25; i < 50; i++) outputs.alert(alert(i));
    await until("the sink to fail", () => outputs.stats.http!.backingOff);
    // The receiver comes back; the next retry sends everything waiting, in order.
    await receiver.start(port);
    clock.advance(clock.pending()[0]!);
    await until("the first 50 alerts to arrive", () => receiver.got.length === 50);
    for (let i = 50; i < 100; i++) outputs.alert(alert(i));
    await until("all 100 alerts to arrive", () => receiver.got.length === 100);
    await outputs.close(1_000);
    await receiver.stop();
    expect(receiver.got.map((a) => a.output_fields["homeostat.n"])).toEqual([...Array(100).keys()]);
    expect(receiver.got[0]).toEqual(alert(0)); // Falco's JSON as it was raised
    expect(outputs.stats.http).toMatchObject({ delivered: 100, spoolPending: 0, overflowed: 0 }); // 25 replayed, 75 new
  });

  it("a receiver that answers 500 forever leaves a bounded spool, counted, and an overflow alert", async () => {
    const dir = join(root, "always-500");
    const clock = new ManualClock();
    const receiver = new Receiver();
    receiver.status = 500;
    const port = await receiver.start();
    const bound = 4096;
    const outputs = await openOutputs(dir, port, clock, bound);
    for (let i = 0; i < 300; i++) outputs.alert(alert(i));
    for (let retry = 0; retry < 5; retry++) {
      await until("the sink to fail", () => outputs.stats.http!.backingOff);
      clock.advance(clock.pending()[0]!);
    }
    await until("the sink to fail", () => outputs.stats.http!.backingOff);
    const s = outputs.stats.http!;
    expect(s.spoolBytes).toBeLessThanOrEqual(bound);
    expect(s.spoolPending + s.overflowed).toBe(300);
    expect(s.overflowed).toBeGreaterThan(200);
    expect(s).toMatchObject({ delivered: 0, lastError: "HTTP 500" });
    expect(receiver.attempts).toBe(6); // the first alert, tried again after each wait: nothing skipped
    const raised: { rule: string; fields: Record<string, unknown> }[] = [];
    outputs.tick({ raise: (rule, _p, _o, fields) => raised.push({ rule, fields }) });
    outputs.tick({ raise: (rule, _p, _o, fields) => raised.push({ rule, fields }) }); // once a minute at most
    expect(raised).toEqual([
      {
        rule: SPOOL_OVERFLOW_RULE,
        fields: expect.objectContaining({ "homeostat.spool_overflow": s.overflowed }) as Record<string, unknown>,
      },
    ]);
    await outputs.close(0);
    await receiver.stop();
    expect(statSync(join(dir, "alerts-http.spool")).size).toBeLessThanOrEqual(bound + 64);
  });

  it("an alert the receiver refuses (400) is counted and skipped, not retried forever", async () => {
    const clock = new ManualClock();
    const receiver = new Receiver();
    const port = await receiver.start();
    receiver.status = 400;
    const outputs = await openOutputs(join(root, "rejected"), port, clock);
    outputs.alert(alert(0));
    await until("the refusal", () => outputs.stats.http!.rejected === 1);
    receiver.status = 200;
    outputs.alert(alert(1));
    await until("the next alert", () => receiver.got.length === 1);
    await outputs.close(0);
    await receiver.stop();
    expect(receiver.got[0]!.output).toBe("alert 1");
  });

  it("alerts go several to a write (pipelined); a receiver that fails one in the middle gets those after it again", async () => {
    const clock = new ManualClock();
    const receiver = new Receiver();
    receiver.statusOf = (n) => (n === 20 ? 503 : 200);
    const port = await receiver.start();
    const outputs = await openOutputs(join(root, "mid-batch"), port, clock);
    for (let i = 0; i < 60; i++) outputs.alert(alert(i));
    await until("the failure", () => outputs.stats.http!.backingOff);
    clock.advance(clock.pending()[0]!);
    await until("every alert", () => outputs.stats.http!.delivered === 60);
    await outputs.close(0);
    await receiver.stop();
    const got = receiver.got.map((a) => a.output_fields["homeostat.n"] as number);
    // The 21st was refused (503) while the ones pipelined after it in its batch were taken: those come again, after
    // it, so that from the failed one on the receiver has every alert in order. Nothing is lost.
    const again = got.length - 60;
    expect(again).toBeGreaterThan(0); // pipelined: more than one request was in flight
    expect(again).toBeLessThan(16); // at most the depth less one
    expect(got.slice(0, 20)).toEqual([...Array(20).keys()]);
    expect(got.slice(20 + again)).toEqual([...Array(40).keys()].map((i) => i + 20));
    expect(new Set(got).size).toBe(60);
    expect(outputs.stats.http).toMatchObject({ delivered: 60, failures: 1, spoolPending: 0 });
  });

  it("a receiver that closes the connection after each answer gets every alert once, in order", async () => {
    const clock = new ManualClock();
    const receiver = new Receiver();
    receiver.closeEach = true;
    const port = await receiver.start();
    const outputs = await openOutputs(join(root, "close-each"), port, clock);
    for (let i = 0; i < 40; i++) outputs.alert(alert(i));
    await until("every alert", () => outputs.stats.http!.delivered === 40);
    await outputs.close(0);
    await receiver.stop();
    expect(receiver.got.map((a) => a.output_fields["homeostat.n"])).toEqual([...Array(40).keys()]);
    expect(outputs.stats.http).toMatchObject({ delivered: 40, failures: 0 });
  });

  it("a receiver that closes the connection now and then, as nginx does, gets every alert once, still pipelined", async () => {
    const clock = new ManualClock();
    // Every 10th answer closes the connection; what was pipelined behind it is not read (Go's server and nginx).
    const server = new ScriptedServer(
      (n) => `HTTP/1.1 200 OK\r\nContent-Length: 0\r\n${n % 10 === 9 ? "Connection: close\r\n" : ""}\r\n`,
    );
    const url = await server.start();
    const outputs = await AlertOutputs.open(
      {},
      { spoolDir: join(root, "close-now-and-then"), clock, timeoutMs: 5_000 },
    );
    outputs.startHttp({ url, spoolMaxBytes: 1 << 20 });
    for (let i = 0; i < 100; i++) outputs.alert(alert(i));
    await until("every alert", () => outputs.stats.http!.delivered === 100);
    await outputs.close(0);
    await server.stop();
    const got = server.bodies.map((b) => (JSON.parse(b) as HostAlert).output_fields["homeostat.n"]);
    expect(got).toEqual([...Array(100).keys()]);
    expect(server.connections).toBeGreaterThanOrEqual(10);
    // The depth grew again after each close: requests arrived pipelined on the last connections too.
    expect(server.mostInOneRead.slice(-3).every((n) => n > 1)).toBe(true);
    expect(outputs.stats.http).toMatchObject({ delivered: 100, failures: 0 });
  });
});
