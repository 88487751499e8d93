// The fleet console in a real browser (Debian's Chromium through playwright-core; skipped without it or without
// nats-server): fleet serve against a real nats-server, fed alerts, heartbeats and two hosts' profile snapshots;
// every page loads without a console error or Content-Security-Policy violation, the Hosts page's chart renders as
// SVG, and everything comes from the console itself; an alert a host publishes while the Alerts page is open
// appears on it without a reload.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chartsSettled, haveChromium, type OpenReport, openUrl } from "../report/testing/headlessPage.js";
import { type RunningFleetServe, startFleetServe } from "./fleetServe.js";
import { encodeMessage } from "./fleetMessages.js";
import { envelope, hostAlert, publishUntilAcked, putSnapshot, trainedProfile, until } from "./testing/fleetTraffic.js";
import { type NatsServer, natsServerUnavailableReason, startNatsServer } from "./testing/natsServer.js";

const PROGRAM = `s-${"0123456789abcdef".repeat(2)}`;

describe.skipIf(!haveChromium() || natsServerUnavailableReason() !== undefined)("the fleet console in Chromium", () => {
  let server: NatsServer;
  let dir: string;
  let fleet: RunningFleetServe;
  let nc: NatsConnection;
  let browser: OpenReport | undefined;

  beforeAll(async () => {
    server = await startNatsServer();
    dir = mkdtempSync(path.join(tmpdir(), "homeostat-fleet-browser-"));
    fleet = await startFleetServe({
      nats: { url: server.url },
      stateDir: dir,
      listen: { host: "127.0.0.1", port: 0 },
      pool: true,
      poolDebounceMs: 50,
    });
    nc = await connect({ servers: server.url });
    const js = jetstream(nc);
    const now = Date.now();
    for (const host of ["web-1", "web-2"]) {
      for (let seq = 1; seq <= 20; seq++) await publishUntilAcked(js, "alerts", envelope(host, seq, now - seq * 1000));
      await publishUntilAcked(js, "heartbeats", envelope(host, 21, now));
    }
    const profiles = await new Kvm(nc).open("homeostat_profiles");
    await putSnapshot(profiles, PROGRAM, "web-1", "/usr/bin/true", trainedProfile([1, 2, 3], 40, true));
    await putSnapshot(profiles, PROGRAM, "web-2", "/usr/bin/true", trainedProfile([1, 2, 4], 40, true));
    await until(
      "the data stored and pooled",
      () => fleet.status().ingest.stored! >= 42 && fleet.status().pool!.pooled! >= 1,
    );
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await nc?.close();
    await fleet?.close();
    await server?.cleanup();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("loads every page without a console error or CSP violation, the chart as SVG", { timeout: 90_000 }, async () => {
    browser = await openUrl(fleet.url!);
    const { page, problems } = browser;
    page.on("console", (m) => {
      if (/Content.Security.Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
    });
    const pages: [string, string[]][] = [
      ["", ["alerts-by-host"]],
      ["alerts?host=web-2", []],
      ["programs", []],
      [`program?id=${PROGRAM}`, []],
      [`program/confirm?id=${PROGRAM}&op=reset`, []],
    ];
    for (const [p, charts] of pages) {
      await page.goto(`${fleet.url}${p}`);
      await page.waitForLoadState("load");
      if (charts.length > 0) await chartsSettled(page, charts);
      for (const id of charts) {
        expect(await page.getAttribute(`#${id}`, "data-error"), `${p} ${id}`).toBeNull();
        expect(await page.locator(`#${id} svg`).count(), `${p} ${id}`).toBeGreaterThan(0);
      }
    }
    await page.goto(`${fleet.url}alerts?host=web-2`);
    expect(await page.locator("#alerts-table tbody tr[data-id]").count()).toBe(20);
    await page.goto(`${fleet.url}program?id=${PROGRAM}`);
    expect(await page.textContent("#pooled")).toContain("normal");
    expect(problems).toEqual([]);
    expect(browser.requests.filter((u) => !u.startsWith(fleet.url!))).toEqual([]);
  });

  it(
    "shows an alert a host publishes while the Alerts page is open, without a reload",
    { timeout: 60_000 },
    async () => {
      browser ??= await openUrl(fleet.url!);
      const { page, problems } = browser;
      await page.goto(`${fleet.url}alerts`);
      await page.waitForFunction(() => /live/.test(document.getElementById("live-status")?.textContent ?? ""));
      const marker = `live fleet alert ${Date.now()}`;
      const env = envelope("web-1", 100);
      const alert = hostAlert("web-1", "/usr/bin/true", env.time, marker);
      await publishUntilAcked(jetstream(nc), "alerts", env, encodeMessage("alerts", env, JSON.stringify(alert)));
      const t0 = performance.now();
      const row = page.locator("#alerts-table tbody tr.new", { hasText: marker });
      await row.waitFor({ timeout: 10_000 });
      console.log(`the published alert appeared after ${Math.round(performance.now() - t0)} ms`);
      // The fleet table's columns, in order: the host links to its alerts, the program to its path's.
      expect(await row.locator("td").nth(1).textContent()).toBe("web-1");
      expect(await row.locator("td a").nth(1).getAttribute("href")).toBe("/alerts?exe=%2Fusr%2Fbin%2Ftrue");
      expect(await row.locator("code.window").textContent()).toBe("openat read mprotect");
      expect(problems).toEqual([]);
    },
  );
});
