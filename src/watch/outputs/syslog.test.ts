import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { AlertPriority, HostAlert } from "../../engine/hostMonitor.js";
import { isHomeostatError } from "../../errors.js";
import { until } from "../../response/testing/waits.js";
import { AlertOutputs } from "./alertOutputs.js";
import { SYSLOG_FACILITIES, SyslogFormatter, syslogMessage } from "./syslogFormat.js";
import { type DatagramHelper, DatagramSyslogSink } from "./syslogDatagram.js";
import { SyslogSink } from "./syslogSink.js";

const root = mkdtempSync(join(tmpdir(), "homeostat-syslog-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function alert(
  priority: AlertPriority,
  rule = "Anomalous system calls",
  output = "Anomalous mmap in pid 7",
): HostAlert {
  return {
    time: "2026-12-03T01:02:03.456Z",
    rule,
    priority,
    source: "syscall",
    hostname: "web-1",
    tags: ["homeostat"],
    output,
    output_fields: { "proc.pid": 7, "proc.exepath": "/usr/bin/ünïcode" },
  };
}

// RFC 5424 section 6: HEADER SP STRUCTURED-DATA [SP MSG], with the field limits of the ABNF.
const RFC5424 =
  /^<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)|-) ([!-~]{1,255}) ([!-~]{1,48}) ([!-~]{1,128}) ([!-~]{1,32}) (-|\[.*\]) ([ -~]*)$/;

describe("syslog messages (RFC 5424)", () => {
  it("has every header field the ABNF asks for, PRI = facility x 8 + severity, and the alert's JSON as MSG", () => {
    const a = alert("Critical");
    const m = syslogMessage(a, { facility: SYSLOG_FACILITIES.daemon!, procId: 4242 });
    const f = RFC5424.exec(m);
    expect(f, m).not.toBeNull();
    expect(Number(f![1])).toBe(3 * 8 + 2);
    expect(f!.slice(2, 7)).toEqual([
      "2026-12-03T01:02:03.456Z",
      "web-1",
      "homeostat",
      "4242",
      "Anomalous_system_c" + "alls",
    ]);
    expect(f![7]).toBe("-");
    expect(JSON.parse(f![8]!)).toEqual(a); // plain ASCII (non-ASCII escaped), the same alert
  });

  it("maps Falco's eight priorities onto syslog's eight severities, in order", () => {
    const priorities: AlertPriority[] = [
      "Emergency",
      "Alert",
      "Critical",
      "Error",
      "Warning",
      "Notice",
      "Informational",
      "Debug",
    ];
    const pris = priorities.map((p) =>
      Number(/^<(\d+)>/.exec(syslogMessage(alert(p), { facility: 16, procId: 1 }))![1]),
    );
    expect(pris).toEqual([128, 129, 130, 131, 132, 133, 134, 135]);
  });

  it("keeps header fields within their limits and one line, whatever the alert holds", () => {
    const odd = {
      ...alert("Warning", "a rule with spaces and a very long name that goes on and on", "two\nlines"),
      hostname: "",
    };
    const m = syslogMessage(odd, { facility: 1, procId: 1 });
    expect(m).toMatch(RFC5424);
    expect(m).not.toContain("\n");
    expect(m.split(" ")[2]).toBe("-"); // empty hostname: NILVALUE
    expect(m.split(" ")[5]).toHaveLength(32);
  });
});

describe("the syslog formatter (headers kept per rule, priority and host)", () => {
  it("makes exactly the messages syslogMessage makes, whatever the alert's time, names and text", () => {
    const fields = { facility: SYSLOG_FACILITIES.local3!, procId: 99 };
    const f = new SyslogFormatter(fields);
    const alerts: HostAlert[] = [
      alert("Critical"),
      alert("Warning", "a rule with spaces and a very long name that goes on and on", "two\nlines"),
      { ...alert("Error"), time: "2026-12-03T01:02:03+02:00" }, // not UTC: made so
      { ...alert("Error"), time: "yesterday" }, // not a time: NILVALUE
      { ...alert("Notice"), hostname: "" },
      { ...alert("Notice"), hostname: "höst näme" },
      alert("Warning", "Anomalous system calls", "a DEL \u007f and a tab \t in the text"),
      alert("Critical"), // a header made before, now kept
    ];
    for (const a of alerts) expect(f.message(a)).toBe(syslogMessage(a, fields));
    expect(f.message(alerts[2]!)).toContain(" 2026-12-02T23:02:03.000Z ");
    expect(f.message(alerts[3]!).split(" ")[1]).toBe("-");
    const odd = f.message(alerts[6]!);
    expect(odd).toMatch(RFC5424); // MSG printable ASCII: DEL escaped, the tab escaped by JSON
    expect((JSON.parse(RFC5424.exec(odd)![8]!) as HostAlert).output).toBe("a DEL \u007f and a tab \t in the text");
  });
});

describe("the syslog output on a unix stream socket", () => {
  it("sends one RFC 5424 line per alert, in order", async () => {
    const path = join(root, "log.sock");
    const lines: string[] = [];
    let carry = "";
    const server = net.createServer((c) => {
      c.setEncoding("utf8");
      c.on("data", (d: string) => {
        const parts = (carry + d).split("\n");
        carry = parts.pop()!;
        lines.push(...parts);
      });
    });
    await new Promise<void>((r) => server.listen(path, r));
    const outputs = await AlertOutputs.open({ syslog: { path, facility: 4 } }, { spoolDir: join(root, "spool") });
    for (let i = 0; i < 20; i++) outputs.alert(alert("Error", "Anomalous system calls", `alert ${i}`));
    await until("20 lines", () => lines.length === 20);
    await outputs.close(0);
    await new Promise<void>((r) => server.close(() => r()));
    expect(lines.every((l) => RFC5424.test(l))).toBe(true);
    expect(lines.map((l) => (JSON.parse(RFC5424.exec(l)![8]!) as HostAlert).output)).toEqual(
      Array.from({ length: 20 }, (_, i) => `alert ${i}`),
    );
    expect(lines[0]!.startsWith(`<${4 * 8 + 3}>1 `)).toBe(true);
    expect(outputs.stats.syslog).toMatchObject({ sent: 20, dropped: 0 });
  });

  it("holds what a slow daemon cannot take yet, and sends it, in order, once the socket drains", async () => {
    const path = join(root, "slow.sock");
    const lines: string[] = [];
    let carry = "";
    let conn: net.Socket | undefined;
    const server = net.createServer((c) => {
      conn = c;
      c.pause(); // the daemon is busy: the kernel's buffer fills, then the sink's
      c.setEncoding("utf8");
      c.on("data", (d: string) => {
        const parts = (carry + d).split("\n");
        carry = parts.pop()!;
        lines.push(...parts);
      });
    });
    await new Promise<void>((r) => server.listen(path, r));
    const sink = await SyslogSink.open({ path, maxQueued: 1000 });
    const pad = "x".repeat(1000);
    for (let i = 0; i < 500; i++) sink.send(`<14>1 - - homeostat 1 slow - ${i} `, pad);
    // Written together at the end of the output window, into a socket that takes only part of them.
    await until("the first 500 written", () => sink.stats.sent === 500, 30_000);
    // Past a quarter of a megabyte waiting in the socket, messages wait in the sink's queue.
    for (let i = 500; i < 800; i++) sink.send(`<14>1 - - homeostat 1 slow - ${i} `, pad);
    expect(sink.queued).toBeGreaterThan(0);
    conn!.resume();
    await until("the 800 messages", () => lines.length === 800, 30_000);
    expect(lines.map((l) => Number(l.split(" ")[7]))).toEqual([...Array(800).keys()]);
    expect(sink.stats).toMatchObject({ sent: 800, dropped: 0 });
    await sink.close(1000);
    await new Promise<void>((r) => server.close(() => r()));
  });

  it("says why when there is no socket to connect to (exit 3: an environment problem)", async () => {
    const err = await SyslogSink.open({ path: join(root, "none.sock") }).catch((e: unknown) => e);
    expect(isHomeostatError(err) && err.code).toBe("E_DEPENDENCY");
    expect(String((err as Error).message)).toContain("no such socket");
  });
});

// A syslog daemon's datagram socket, as journald's /dev/log is: Node.js cannot bind one, so the receiver is python3.
const RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", flush=True)
while True:
    sys.stdout.write(s.recv(65536).decode("ascii", "replace") + "\\n"); sys.stdout.flush()
`;

const has = (program: string) => spawnSync(program, ["--version"], { stdio: "ignore" }).status === 0;
const python = has("python3");
const helpers = (["python3", "perl"] as DatagramHelper[]).filter(has);
if (!python) console.log("skipping the datagram syslog tests: no python3 for the receiving socket");

/** A datagram receiver bound at `path`: the datagrams it got, each a line; stop() ends it and removes the socket. */
async function receiver(path: string) {
  rmSync(path, { force: true });
  const child: ChildProcessWithoutNullStreams = spawn("python3", ["-c", RECEIVER, path]);
  const lines: string[] = [];
  let carry = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (d: string) => {
    const parts = (carry + d).split("\n");
    carry = parts.pop()!;
    lines.push(...parts);
  });
  await until("the receiver to bind its socket", () => lines.length > 0);
  lines.shift(); // "ready"
  const stop = async () => {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill();
    await exited;
    rmSync(path, { force: true });
  };
  return { lines, stop };
}

describe.skipIf(!python)("the syslog output on a unix datagram socket (journald's /dev/log)", () => {
  it("finds out the socket is a datagram one and sends one RFC 5424 datagram per alert, in order", async () => {
    const path = join(root, "dgram.sock");
    const r = await receiver(path);
    try {
      const outputs = await AlertOutputs.open({ syslog: { path, facility: 3 } }, { spoolDir: join(root, "spool-d") });
      for (let i = 0; i < 20; i++) outputs.alert(alert("Warning", "Anomalous system calls", `datagram ${i}`));
      await until("20 datagrams", () => r.lines.length >= 20);
      expect(outputs.stats.syslog).toMatchObject({ socket: "datagram", sent: 20, dropped: 0 });
      await outputs.close(0);
      expect(r.lines).toHaveLength(20);
      expect(r.lines.every((l) => RFC5424.test(l))).toBe(true);
      expect(r.lines.map((l) => (JSON.parse(RFC5424.exec(l)![8]!) as HostAlert).output)).toEqual(
        Array.from({ length: 20 }, (_, i) => `datagram ${i}`),
      );
      expect(r.lines[0]!.startsWith(`<${3 * 8 + 4}>1 `)).toBe(true);
    } finally {
      await r.stop();
    }
  });

  for (const helper of helpers) {
    it(`sends through ${helper}, keeps what is sent while the daemon restarts, and delivers it once it is back`, async () => {
      const path = join(root, `restart-${helper}.sock`);
      let r = await receiver(path);
      const sink = await DatagramSyslogSink.open({ path, helpers: [helper] });
      try {
        sink.send("<14>1 - - homeostat 1 before - first");
        await until("the first datagram", () => r.lines.length === 1);
        await r.stop();
        for (let i = 0; i < 5; i++) sink.send(`<14>1 - - homeostat 1 away - message ${i}`);
        await until("the helper to find the daemon gone", () => sink.stats.failures > 0);
        r = await receiver(path);
        await until("the five messages sent while it was away", () => r.lines.length === 5, 30_000);
        expect(r.lines).toEqual(Array.from({ length: 5 }, (_, i) => `<14>1 - - homeostat 1 away - message ${i}`));
        expect(sink.stats).toMatchObject({ sent: 6, dropped: 0 });
      } finally {
        await sink.close(1000);
        await r.stop();
      }
    }, 60_000);
  }

  it("says what is missing when neither python3 nor perl can be found (exit 3: an environment problem)", async () => {
    const path = join(root, "nohelper.sock");
    const r = await receiver(path);
    const saved = process.env.PATH;
    process.env.PATH = join(root, "no-such-dir");
    try {
      const err = await SyslogSink.open({ path }).catch((e: unknown) => e);
      expect(isHomeostatError(err) && err.code).toBe("E_DEPENDENCY");
      expect((err as Error).message).toMatch(/is a datagram socket .* takes python3 or perl, which is not installed/);
    } finally {
      process.env.PATH = saved;
      await r.stop();
    }
  });
});
