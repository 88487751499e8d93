// The console beside a real `homeostat watch` (strace backend, a shell): an administrator's normalize, posted from
// the profile's confirmation page, is picked up by the running watch; then the shell does something it never did
// while learning, watch raises an anomaly alert, and the console's /events stream delivers it. Driven by events
// (files the shell waits for, the watch's own state), not by sleeps.

import { mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { straceUnavailableReason } from "../ingest/testing/straceCapture.js";
import { until } from "../response/testing/waits.js";
import { StateStore } from "../store/stateStore.js";
import { startHostWatch } from "../watch/hostWatch.js";
import { startConsole } from "./consoleServer.js";

const unavailable = straceUnavailableReason();
if (unavailable !== undefined) console.log(`skipping the console's watch test: ${unavailable}`);

/** Reads server-sent events from `url` until one satisfies `want` (or `timeoutMs` passes). */
async function awaitEvent(url: string, want: (data: Record<string, unknown>) => boolean, timeoutMs: number) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  try {
    const res = await fetch(url, { signal: ac.signal });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the event stream ended");
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = /^data: (.*)$/m.exec(event)?.[1];
        if (data !== undefined && /^event: alert$/m.test(event)) {
          const parsed = JSON.parse(data) as Record<string, unknown>;
          if (want(parsed)) return parsed;
        }
      }
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}

describe.skipIf(unavailable !== undefined)("the console beside a running watch (strace)", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-serve-watch-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("hands an administrator's normalize to the running watch, and streams the alert it then raises", async () => {
    const state = join(dir, "state");
    const normalized = join(dir, "normalized");
    const finished = join(dir, "finished");
    const sh = realpathSync("/bin/sh");
    const st = statSync(sh);
    const key = `${sh}@${st.dev}:${st.ino}`;
    const store = StateStore.open(state);
    const watch = startHostWatch({
      backend: "strace",
      command: [
        "/bin/sh",
        "-c",
        // Learns a loop of sleeps; once normalized, redirects a builtin's output: calls (dup2, fcntl) it never made.
        `while [ ! -e '${normalized}' ]; do sleep 0.02; done; echo hi > /dev/null; while [ ! -e '${finished}' ]; do sleep 0.02; done`,
      ],
      store,
      settings: { anomalyLimit: 1_000_000 },
      saveIntervalMs: 200,
      pollIntervalMs: 100,
      programOutput: "ignore",
    });
    let running: Awaited<ReturnType<typeof startConsole>> | undefined;
    try {
      await until("watch to store the shell's profile", () => store.findProfiles(key).length > 0);
      running = await startConsole({ host: "127.0.0.1", port: 0, stateDir: state, pollMs: 100 });
      console.log(`console test server on port ${running.port}`);
      const confirm = await fetch(`${running.url}profile/confirm?key=${encodeURIComponent(key)}&op=normalize`);
      const cookie = confirm.headers.get("set-cookie")!.split(";")[0]!;
      const csrf = /name="csrf"\s+value="([^"]+)"/.exec(await confirm.text())![1]!;
      const origin = running.url.replace(/\/$/, "");
      const posted = await fetch(`${running.url}profile/admin`, {
        method: "POST",
        redirect: "manual",
        headers: { Cookie: cookie, Origin: origin, "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ key, op: "normalize", csrf }).toString(),
      });
      expect(posted.status).toBe(303);
      await until("watch to load the normalized profile", () => watch.monitor.profile(key)?.profile.state === "normal");
      const alert = awaitEvent(
        `${running.url}events?rule=${encodeURIComponent("Anomalous system calls")}`,
        (a) => a.key === key,
        20_000,
      );
      // The stream is open (its first poll marks the high-water mark) before the shell misbehaves.
      await until("the live stream to open", () => running!.streams() > 0);
      writeFileSync(normalized, "");
      const seen = await alert;
      expect(seen.rule).toBe("Anomalous system calls");
      expect(String(seen.output)).toContain(sh);
    } finally {
      writeFileSync(normalized, "");
      writeFileSync(finished, "");
      await running?.close();
    }
    const summary = await watch.done;
    store.close();
    expect(summary.reloaded).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
