// Unit tests of the console's pieces that need no server: the --listen address and its loopback rule, the HTML
// template's escaping, constant-time comparison, and the queries behind the overview and the live stream.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StateStore } from "../store/stateStore.js";
import { alertPage, alertsAfter, lastAlertId } from "./alertQueries.js";
import { epochOf } from "./alertsPage.js";
import { categoryBigramCounts } from "./charts.js";
import { html, link, trusted } from "./html.js";
import { isLoopback, parseListen, requireTokenOffLoopback } from "./listenAddress.js";
import { overview } from "./overviewQueries.js";
import { downloadName } from "./profileActions.js";
import { listProfiles } from "./profileQueries.js";
import { safeEqual } from "./security.js";
import { anomalyAlert, EVIL_KEY, makeConsoleState, TRUE_KEY } from "./testing/consoleState.js";
import { CATEGORIES, categoryIndex } from "../syscalls/categories.js";

describe("--listen", () => {
  it("reads HOST:PORT and [IPv6]:PORT with a strict port", () => {
    expect(parseListen("127.0.0.1:8470")).toEqual({ host: "127.0.0.1", port: 8470 });
    expect(parseListen("[::1]:0")).toEqual({ host: "::1", port: 0 });
    expect(parseListen("localhost:80")).toEqual({ host: "localhost", port: 80 });
    for (const bad of ["8470", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:0x10", "::1:80", "[zz]:80", ":80"]) {
      expect(() => parseListen(bad), bad).toThrow(expect.objectContaining({ code: "E_USAGE" }));
    }
  });

  it("refuses a non-loopback address without a token", () => {
    expect(isLoopback("127.0.0.2") && isLoopback("::1") && isLoopback("localhost")).toBe(true);
    expect(isLoopback("0.0.0.0") || isLoopback("10.0.0.1") || isLoopback("::")).toBe(false);
    expect(() => requireTokenOffLoopback(parseListen("0.0.0.0:8470"), false)).toThrow(
      expect.objectContaining({ code: "E_USAGE", message: expect.stringContaining("--token-file") }),
    );
    expect(() => requireTokenOffLoopback(parseListen("0.0.0.0:8470"), true)).not.toThrow();
  });
});

describe("escaping and comparing", () => {
  it("escapes every interpolated value, and only trusted markup passes", () => {
    const name = `<script>alert(1)</script>" onmouseover='x'&`;
    expect(html`<a title="${name}">${name}</a>`.text).toBe(
      `<a title="&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover=&#39;x&#39;&amp;">&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover=&#39;x&#39;&amp;</a>`,
    );
    expect(html`${[name, html`<b>${1}</b>`, null, false, undefined]}`.text).toBe(
      "&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover=&#39;x&#39;&amp;<b>1</b>",
    );
    expect(html`${trusted("<i>ok</i>")}`.text).toBe("<i>ok</i>");
    expect(link("/alerts", { rule: "a&b c", priority: "", before: 5 })).toBe("/alerts?rule=a%26b+c&before=5");
  });

  it("compares tokens by content, whatever their lengths", () => {
    expect(safeEqual("secret-token-123", "secret-token-123")).toBe(true);
    expect(safeEqual("secret-token-123", "secret-token-124")).toBe(false);
    expect(safeEqual("secret", "secret-token-123")).toBe(false);
  });

  it("names downloads with safe characters only", () => {
    expect(downloadName("nginx", ".json")).toBe("nginx.json");
    expect(downloadName(`..\\"; rm -rf`, ".json")).toBe("____rm_-rf.json");
    expect(downloadName("", ".json")).toBe("profile.json");
  });

  it("reads times as UTC", () => {
    expect(epochOf("1970-01-01T01:00")).toBe(3600);
    expect(epochOf("1970-01-01T01:00:00+01:00")).toBe(0);
    expect(epochOf("12.5")).toBe(12.5);
    expect(epochOf("yesterday")).toBeUndefined();
  });

  it("counts bigrams over syscall categories", () => {
    const cells = categoryBigramCounts([
      ["read", "write"],
      ["read", "write"],
      ["openat", "read"],
    ]);
    const C = CATEGORIES.length;
    expect(cells).toHaveLength(C * C);
    expect(cells[categoryIndex("read") * C + categoryIndex("write")]).toBe(2);
    expect(cells.reduce((a, b) => a + b, 0)).toBe(3);
  });
});

describe("the console's queries", () => {
  const now = 1_700_000_000;
  let state: ReturnType<typeof makeConsoleState>;
  let store: StateStore;
  beforeAll(() => {
    state = makeConsoleState(now);
    store = StateStore.open(state.dir, { readonly: true });
  });
  afterAll(() => {
    store.close();
    state.remove();
  });

  it("sums up the store for the overview", () => {
    const o = overview(store);
    expect(o.profiles).toEqual({ total: 3, byState: { training: 2, frozen: 0, normal: 1 } });
    expect(o.alerts).toMatchObject({ stored: 3, firstId: 1, lastId: 3, lastTime: now - 30 });
    expect(o.hourly.reduce((t, h) => t + h.n, 0)).toBe(3);
    expect(o.runs[0]).toMatchObject({ pid: 4242, events: 360_000, lost: 12 });
    expect(o.running).toBeNull();
  });

  it("filters, pages and follows alerts by id", () => {
    expect(alertPage(store, { key: TRUE_KEY }).rows.map((a) => a.id)).toEqual([2, 1]);
    expect(alertPage(store, {}, undefined, 2)).toMatchObject({ more: true });
    expect(alertPage(store, { program: "true" }).rows.map((a) => a.id)).toEqual([2, 1]);
    expect(alertPage(store, { program: "/usr/bin/true" }).rows.map((a) => a.id)).toEqual([2, 1]);
    expect(alertPage(store, { program: "%" }).rows).toEqual([]);
    expect(alertPage(store, { from: now - 100 }).rows.map((a) => a.id)).toEqual([3, 2]);
    expect(alertPage(store, { rule: "no such rule" }).rows).toEqual([]);
    expect(alertPage(store, {}).rows[0]!.window).toEqual(["openat", "read", "mprotect"]);
    expect(lastAlertId(store)).toBe(3);
    expect(alertsAfter(store, {}, 1).map((a) => a.id)).toEqual([2, 3]);
    expect(alertsAfter(store, { key: EVIL_KEY }, 0).map((a) => a.id)).toEqual([3]);
    const writer = StateStore.open(state.dir);
    writer.addAlerts([anomalyAlert(TRUE_KEY, "/usr/bin/true", now)]);
    writer.close();
    expect(alertsAfter(store, {}, 3).map((a) => a.id)).toEqual([4]); // the reader sees the writer's commit
  });

  it("lists profiles a page at a time, searched and sorted", () => {
    const q = { sort: "anomalies" as const, descending: true, page: 1 };
    expect(listProfiles(store, q).total).toBe(3);
    expect(listProfiles(store, { ...q, state: "normal" }).rows.map((r) => r.key)).toEqual([TRUE_KEY]);
    expect(listProfiles(store, { ...q, search: "script" }).rows.map((r) => r.key)).toEqual([EVIL_KEY]);
    expect(listProfiles(store, { ...q, page: 2 }).rows).toEqual([]);
    const row = listProfiles(store, { ...q, search: "/usr/bin/true" }).rows[0]!;
    expect(row).toMatchObject({ name: "true", state: "normal", lastAlertRule: "Anomalous system calls" });
  });
});
