// For the browser tests of the reports and the console: Debian's Chromium through playwright-core, a report opened
// from its file (or a console page from its URL) with every request, page error, console error and dialog
// recorded, and a wait for every chart to have rendered (or failed). Tests skip with a printed reason when Chromium is absent.

import { existsSync } from "node:fs";
import type { Browser, Page } from "playwright-core";

export const CHROMIUM_PATH = process.env.HOMEOSTAT_CHROMIUM ?? "/usr/bin/chromium";

/** Whether Chromium is here; prints why the browser tests skip when it is not. */
export function haveChromium(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  console.log(
    `skipping the browser test: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set HOMEOSTAT_CHROMIUM)`,
  );
  return false;
}

/** A report page open in headless Chromium, with what it asked for and what went wrong on it. */
export interface OpenReport {
  page: Page;
  /** Every URL the page requested. */
  requests: string[];
  /** Page errors, console errors and dialogs. */
  problems: string[];
  close(): Promise<void>;
}

/** Opens `file` in a fresh headless Chromium. */
export async function openReport(file: string): Promise<OpenReport> {
  return openUrl(`file://${file}`);
}

/** Opens `url` (a report's file:// URL, or a page the console serves) in a fresh headless Chromium. */
export async function openUrl(url: string): Promise<OpenReport> {
  const { chromium } = await import("playwright-core");
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
    ],
  });
  try {
    const page = await browser.newPage();
    const requests: string[] = [];
    const problems: string[] = [];
    page.on("request", (req) => requests.push(req.url()));
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console error: ${m.text()}`);
    });
    page.on("dialog", (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    await page.goto(url);
    return { page, requests, problems, close: () => browser.close() };
  } catch (err) {
    await browser.close();
    throw err;
  }
}

/** Waits until every chart of `ids` has rendered or recorded an error (vegaPage.ts sets the data attributes). */
export async function chartsSettled(page: Page, ids: readonly string[]): Promise<void> {
  await page.waitForFunction(
    (list) =>
      list.every((id) => {
        const el = document.getElementById(id);
        return el !== null && (el.dataset.rendered === "true" || el.dataset.error !== undefined);
      }),
    [...ids],
    { timeout: 90_000 },
  );
}
