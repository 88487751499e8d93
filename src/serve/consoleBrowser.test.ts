// The console in a real browser (Debian's Chromium through playwright-core; skipped, saying why, without it): every
// page loads with no console error and no Content-Security-Policy violation, charts render as SVG, an alert stored
// while the Alerts page is open appears without a reload, and a reset confirmed on a profile's page changes it in
// the store.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chartsSettled, haveChromium, openUrl, type OpenReport } from "../report/testing/headlessPage.js";
import { StateStore } from "../store/stateStore.js";
import { type RunningConsole, startConsole } from "./consoleServer.js";
import { anomalyAlert, makeConsoleState, TRUE_KEY } from "./testing/consoleState.js";

describe.skipIf(!haveChromium())("the console in Chromium", () => {
  let state: ReturnType<typeof makeConsoleState>;
  let running: RunningConsole;
  let browser: OpenReport | undefined;
  beforeAll(async () => {
    state = makeConsoleState(Date.now() / 1000);
    running = await startConsole({ host: "127.0.0.1", port: 0, stateDir: state.dir, pollMs: 100 });
    console.log(`console test server on port ${running.port}`);
  });
  afterAll(async () => {
    await browser?.close();
    await running.close();
    state.remove();
  });

  it("loads every page without a console error or CSP violation, its charts as SVG", async () => {
    browser = await openUrl(running.url);
    const { page, problems } = browser;
    page.on("console", (m) => {
      if (/Content.Security.Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
    });
    const pages: [string, string[]][] = [
      ["", ["alerts-over-time"]],
      ["profiles", []],
      [`profile?key=${encodeURIComponent(TRUE_KEY)}`, ["anomalies", "bigrams"]],
      ["alerts", []],
      ["responses", []],
    ];
    for (const [path, charts] of pages) {
      await page.goto(`${running.url}${path}`);
      await page.waitForLoadState("load");
      if (charts.length > 0) await chartsSettled(page, charts);
      for (const id of charts) {
        expect(await page.getAttribute(`#${id}`, "data-error"), `${path} ${id}`).toBeNull();
        expect(await page.locator(`#${id} svg`).count(), `${path} ${id}`).toBeGreaterThan(0);
      }
    }
    expect(problems).toEqual([]);
    // Everything came from the console itself: no CDN.
    expect(browser.requests.filter((u) => !u.startsWith(running.url))).toEqual([]);
  }, 60_000);

  it("shows an alert stored while the Alerts page is open, without a reload", async () => {
    browser ??= await openUrl(running.url);
    const { page, problems } = browser;
    await page.goto(`${running.url}alerts`);
    await page.waitForFunction(() => /live/.test(document.getElementById("live-status")?.textContent ?? ""));
    const marker = `live alert ${Date.now()}`;
    const writer = StateStore.open(state.dir);
    try {
      writer.addAlerts([anomalyAlert(TRUE_KEY, "/usr/bin/true", Date.now() / 1000, marker)]);
    } finally {
      writer.close();
    }
    const t0 = performance.now();
    await page.locator("#alerts-table tbody tr", { hasText: marker }).waitFor({ timeout: 2000 });
    console.log(`the stored alert appeared after ${Math.round(performance.now() - t0)} ms`);
    expect(problems).toEqual([]);
  });

  it("resets a profile from its page, through the confirmation step", async () => {
    browser ??= await openUrl(running.url);
    const { page, problems } = browser;
    await page.goto(`${running.url}profile?key=${encodeURIComponent(TRUE_KEY)}`);
    await page.click('form[action="/profile/confirm"] button:text-is("reset")');
    await page.click("#confirm");
    await page.waitForURL(/done=/);
    expect(await page.textContent("#profile-state")).toBe("training");
    const reader = StateStore.open(state.dir, { readonly: true });
    try {
      const p = reader.loadProfile(TRUE_KEY)!;
      expect(p.state).toBe("training");
      expect(p.trainCount).toBe(0);
    } finally {
      reader.close();
    }
    expect(problems).toEqual([]);
  });
});
