// The console's token defences: the login form's own cookie is no session (only the token gives one); wrong tokens
// from one client address are slowed down (five free, then 429 with a doubling wait), by the login form and by
// bearer headers alike, other addresses unaffected, also through the real server's peer address; logging out (a
// POST with the session's CSRF token) clears the cookie and revokes it; and a token file that group or others may
// read is refused, by the library and by `homeostat serve` (exit 3, one line).

import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { StateStore } from "../store/stateStore.js";
import { BIN } from "../testing/paths.js";
import { createConsoleApp } from "./consoleApp.js";
import { startConsole } from "./consoleServer.js";
import { FIRST_BLOCK_MS, FORGET_AFTER_MS, FREE_FAILURES, LoginThrottle, MAX_BLOCK_MS } from "./loginThrottle.js";
import { SESSION_COOKIE } from "./security.js";
import { makeConsoleState } from "./testing/consoleState.js";
import { readToken } from "./tokenFile.js";

const ORIGIN = "http://localhost";
const TOKEN = "correct-horse-battery-staple";
const from = (address: string) => ({ incoming: { socket: { remoteAddress: address } } });

describe("the console's token defences", () => {
  let state: ReturnType<typeof makeConsoleState>;
  let store: StateStore;
  const dir = mkdtempSync(join(tmpdir(), "homeostat-serve-security-"));
  beforeAll(() => {
    state = makeConsoleState();
    store = StateStore.open(state.dir, { readonly: true });
  });
  afterAll(() => {
    store.close();
    state.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An app with a token and a clock the test moves (seconds). */
  function app() {
    const clock = { t: 1_700_000_000 };
    const { app } = createConsoleApp({ store, token: TOKEN, now: () => clock.t });
    const login = (token: string, address: string) =>
      app.request(
        "/login",
        {
          method: "POST",
          headers: { Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ token }).toString(),
        },
        from(address),
      );
    return { app, clock, login };
  }

  it("gives no session with the login form: its cookie, if any, opens nothing", async () => {
    const { app: console } = app();
    const form = await console.request("/login");
    expect(form.status).toBe(200);
    const set = form.headers.get("set-cookie");
    expect(set).toBeNull();
    // Nor does a cookie signed by another console, or made up.
    expect((await console.request("/", { headers: { Cookie: `${SESSION_COOKIE}=abc.def` } })).status).toBe(401);
  });

  it("answers 429 after five wrong tokens from one address, doubling the wait, and forgets them on success", async () => {
    const { clock, login } = app();
    for (let i = 0; i < FREE_FAILURES; i++) expect((await login("wrong", "10.0.0.1")).status).toBe(401);
    const blocked = await login(TOKEN, "10.0.0.1"); // even the right token: not checked while it must wait
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get("retry-after")).toBe("1");
    expect(await blocked.text()).toContain("Too many wrong tokens");
    expect((await login(TOKEN, "10.0.0.2")).status).toBe(303); // another address is not slowed
    clock.t += 1;
    expect((await login("wrong", "10.0.0.1")).status).toBe(401);
    expect((await login("wrong", "10.0.0.1")).headers.get("retry-after")).toBe("2");
    clock.t += 2;
    expect((await login(TOKEN, "10.0.0.1")).status).toBe(303);
    // Forgotten: five free tries again.
    for (let i = 0; i < FREE_FAILURES; i++) expect((await login("wrong", "10.0.0.1")).status).toBe(401);
    expect((await login("wrong", "10.0.0.1")).status).toBe(429);
  });

  it("counts wrong bearer tokens as the login form's, and lets a session cookie through meanwhile", async () => {
    const { app: console, login } = app();
    const cookie = (await login(TOKEN, "10.0.0.3")).headers.get("set-cookie")!.split(";")[0]!;
    const bearer = (token: string) =>
      console.request("/profiles", { headers: { Authorization: `Bearer ${token}` } }, from("10.0.0.3"));
    for (let i = 0; i < FREE_FAILURES; i++) expect((await bearer("wrong")).status).toBe(401);
    expect((await bearer(TOKEN)).status).toBe(429);
    expect((await login(TOKEN, "10.0.0.3")).status).toBe(429);
    expect((await console.request("/profiles", { headers: { Cookie: cookie } }, from("10.0.0.3"))).status).toBe(200);
  });

  it("waits 1 s, 2 s, 4 s ... at most 15 minutes, and forgets an address an hour after its last failure", () => {
    let now = 0;
    const t = new LoginThrottle(() => now);
    for (let i = 0; i < FREE_FAILURES - 1; i++) t.failed("a");
    expect(t.waitMs("a")).toBe(0);
    const waits: number[] = [];
    for (let i = 0; i < 14; i++) {
      t.failed("a");
      waits.push(t.waitMs("a"));
      now += t.waitMs("a");
    }
    expect(waits.slice(0, 4)).toEqual([FIRST_BLOCK_MS, 2 * FIRST_BLOCK_MS, 4 * FIRST_BLOCK_MS, 8 * FIRST_BLOCK_MS]);
    expect(waits.at(-1)).toBe(MAX_BLOCK_MS);
    expect(t.waitMs("b")).toBe(0);
    now += FORGET_AFTER_MS + 1;
    expect(t.waitMs("a")).toBe(0);
    expect(t.size).toBe(0);
  });

  it("slows down a real client by its peer address", async () => {
    const running = await startConsole({ host: "127.0.0.1", port: 0, stateDir: state.dir, token: TOKEN });
    try {
      const statuses: number[] = [];
      for (let i = 0; i <= FREE_FAILURES; i++) {
        const res = await fetch(`${running.url}alerts`, { headers: { Authorization: "Bearer not-the-token" } });
        statuses.push(res.status);
        await res.text();
      }
      expect(statuses).toEqual([...Array<number>(FREE_FAILURES).fill(401), 429]);
    } finally {
      await running.close();
    }
  });

  it("logs out by a POST with the session's CSRF token: the cookie is cleared and no longer opens anything", async () => {
    const { app: console, login } = app();
    const cookie = (await login(TOKEN, "10.0.0.4")).headers.get("set-cookie")!.split(";")[0]!;
    const page = await (await console.request("/", { headers: { Cookie: cookie } })).text();
    const csrf = /action="\/logout"[^]*?name="csrf" value="([^"]+)"/.exec(page)?.[1];
    expect(csrf).toBeDefined();
    const logout = (fields: Record<string, string>, origin = ORIGIN) =>
      console.request("/logout", {
        method: "POST",
        headers: { Cookie: cookie, Origin: origin, "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(fields).toString(),
      });
    expect((await logout({})).status).toBe(403);
    expect((await logout({ csrf: csrf! }, "http://evil.example")).status).toBe(403);
    expect((await console.request("/", { headers: { Cookie: cookie } })).status).toBe(200);
    const out = await logout({ csrf: csrf! });
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/login");
    expect(out.headers.get("set-cookie")).toMatch(new RegExp(`^${SESSION_COOKIE}=;.*Max-Age=0`));
    expect((await console.request("/", { headers: { Cookie: cookie } })).status).toBe(401);
    // Without a token there is no session to end: no log-out form.
    const { app: open } = createConsoleApp({ store });
    expect(await (await open.request("/")).text()).not.toContain('action="/logout"');
  });

  it("refuses a token file that group or others may read or write, saying how to fix it", () => {
    const file = join(dir, "token");
    writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    expect(readToken(file)).toBe(TOKEN);
    for (const mode of [0o640, 0o604, 0o620, 0o644]) {
      chmodSync(file, mode);
      const err = (() => {
        try {
          readToken(file);
        } catch (e) {
          return e;
        }
      })();
      expect(err, mode.toString(8)).toBeInstanceOf(HomeostatError);
      expect((err as HomeostatError).code).toBe("E_PERMISSION");
      expect((err as HomeostatError).oneLine()).toBe(
        `${file}: the token file may be read or written by group or others (mode 0${mode.toString(8)}): make it private with chmod 600`,
      );
    }
  });

  it("makes `homeostat serve` exit 3 with one line on such a token file", () => {
    const file = join(dir, "shared-token");
    writeFileSync(file, `${TOKEN}\n`);
    chmodSync(file, 0o644);
    const r = spawnSync(
      process.execPath,
      [BIN, "serve", "--state", state.dir, "--listen", "127.0.0.1:0", "--token-file", file],
      { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 60_000 },
    );
    expect(r.status).toBe(3);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/E_PERMISSION.*may be read or written by group or others \(mode 0644\).*chmod 600/);
  });
});
