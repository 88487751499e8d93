import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { AlertPriority, HostAlert } from "../../engine/hostMonitor.js";
import { isHomeostatError } from "../../errors.js";
import { until } from "../../response/testing/waits.js";
import { AlertOutputs } from "./alertOutputs.js";
import { SYSLOG_FACILITIES, syslogMessage } from "./syslogFormat.js";
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

  it("says why when there is no socket to connect to (exit 3: an environment problem)", async () => {
    const err = await SyslogSink.open({ path: join(root, "none.sock") }).catch((e: unknown) => e);
    expect(isHomeostatError(err) && err.code).toBe("E_DEPENDENCY");
    expect(String((err as Error).message)).toContain("no such socket");
  });
});
