import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StateStore } from "../store/stateStore.js";
import { createConsoleApp } from "./consoleApp.js";
import { CONTENT_SECURITY_POLICY, SESSION_COOKIE } from "./security.js";
import { EVIL_KEY, EVIL_NAME, FALSE_KEY, makeConsoleState, TRUE_KEY } from "./testing/consoleState.js";

const ORIGIN = "http://localhost";
const TOKEN = "correct-horse-battery-staple";
const PATHS = [
  "/",
  "/profiles",
  `/profile?key=${encodeURIComponent(TRUE_KEY)}`,
  `/profile/confirm?key=${encodeURIComponent(TRUE_KEY)}&op=reset`,
  `/profile/seccomp.json?key=${encodeURIComponent(TRUE_KEY)}`,
  "/alerts",
  "/responses",
  "/events",
  "/assets/console.js",
  "/assets/vega.min.js",
  "/no-such-page",
];

/** Markup with white space collapsed (the templates' line breaks are not part of what a test checks). */
function flat(text: string): string {
  return text.replace(/\s+/g, " ").replace(/> </g, "><");
}

function cookieOf(res: Response): string {
  const set = res.headers.get("set-cookie") ?? "";
  const m = new RegExp(`${SESSION_COOKIE}=([^;]+)`).exec(set);
  if (m === null) throw new Error(`no session cookie in ${JSON.stringify(set)}`);
  return `${SESSION_COOKIE}=${m[1]}`;
}

/** The CSRF token of the confirmation page for `op` on `key`, with the session cookie it belongs to. */
async function confirmForm(
  app: ReturnType<typeof createConsoleApp>["app"],
  key: string,
  op: string,
  headers: Record<string, string> = {},
) {
  const res = await app.request(`/profile/confirm?key=${encodeURIComponent(key)}&op=${op}`, { headers });
  expect(res.status).toBe(200);
  const text = await res.text();
  const csrf = /name="csrf"\s+value="([^"]+)"/.exec(text)![1]!;
  return { csrf, cookie: headers.Cookie ?? cookieOf(res) };
}

describe("the console over HTTP (app.request)", () => {
  let state: ReturnType<typeof makeConsoleState>;
  let store: StateStore;
  beforeAll(() => {
    state = makeConsoleState();
    store = StateStore.open(state.dir, { readonly: true });
  });
  afterAll(() => {
    store.close();
    state.remove();
  });

  it("serves every page with the security headers", async () => {
    const { app } = createConsoleApp({ store });
    for (const path of PATHS.filter((p) => p !== "/events")) {
      const res = await app.request(path);
      expect([200, 404], path).toContain(res.status);
      expect(res.headers.get("content-security-policy"), path).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    }
    const overview = flat(await (await app.request("/")).text());
    expect(overview).toContain("3 alerts stored");
    expect(overview).not.toMatch(/<script>(?!<\/script>)/); // no inline script
  });

  it("answers 401 on every path without the token, and the token as a bearer header or a login cookie", async () => {
    const { app } = createConsoleApp({ store, token: TOKEN });
    for (const [i, path] of PATHS.entries()) {
      const res = await app.request(path);
      expect(res.status, path).toBe(401);
      expect(res.headers.get("www-authenticate"), path).toContain("Bearer");
      // Each from its own address: five wrong tokens from one are throttled (consoleSecurity.test.ts).
      const from = { incoming: { socket: { remoteAddress: `192.0.2.${i}` } } };
      const wrong = await app.request(path, { headers: { Authorization: `Bearer ${TOKEN}x` } }, from);
      expect(wrong.status, path).toBe(401);
    }
    const bearer = await app.request("/profiles", { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(bearer.status).toBe(200);
    expect((await app.request("/login")).status).toBe(200);
    const post = (token: string, origin = ORIGIN) =>
      app.request("/login", {
        method: "POST",
        headers: { Origin: origin, "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token }).toString(),
      });
    expect((await post("not the token")).status).toBe(401);
    expect((await post(TOKEN, "http://evil.example")).status).toBe(403);
    const login = await post(TOKEN);
    expect(login.status).toBe(303);
    const cookie = cookieOf(login);
    expect(login.headers.get("set-cookie")).toMatch(/HttpOnly/i);
    expect(login.headers.get("set-cookie")).toMatch(/SameSite=Strict/i);
    expect((await app.request("/", { headers: { Cookie: cookie } })).status).toBe(200);
    expect((await app.request("/", { headers: { Cookie: `${cookie.slice(0, -2)}xx` } })).status).toBe(401);
  });

  it("refuses an administrator's POST without the CSRF token, with another's, or from another origin (403)", async () => {
    const { app } = createConsoleApp({ store });
    const { csrf, cookie } = await confirmForm(app, FALSE_KEY, "reset");
    const post = (fields: Record<string, string>, headers: Record<string, string>) =>
      app.request("/profile/admin", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
        body: new URLSearchParams(fields).toString(),
      });
    const fields = { key: FALSE_KEY, op: "reset" };
    expect((await post(fields, { Cookie: cookie, Origin: ORIGIN })).status).toBe(403);
    expect((await post({ ...fields, csrf: `${csrf}x` }, { Cookie: cookie, Origin: ORIGIN })).status).toBe(403);
    expect((await post({ ...fields, csrf }, { Cookie: cookie, Origin: "http://evil.example" })).status).toBe(403);
    expect((await post({ ...fields, csrf }, { Cookie: cookie })).status).toBe(403); // neither Origin nor Referer
    const other = await confirmForm(app, FALSE_KEY, "reset", {});
    expect(other.cookie).not.toBe(cookie);
    expect((await post({ ...fields, csrf: other.csrf }, { Cookie: cookie, Origin: ORIGIN })).status).toBe(403);
    const version = store.loadProfile(FALSE_KEY)!.version;
    expect(store.loadProfile(FALSE_KEY)!.version).toBe(version); // nothing was written
  });

  it("carries out a confirmed operation as `homeostat profiles` does, recorded in the profile's history", async () => {
    const { app } = createConsoleApp({ store });
    const { csrf, cookie } = await confirmForm(app, TRUE_KEY, "tolerize");
    const before = store.loadProfile(TRUE_KEY)!;
    expect(before.state).toBe("normal");
    const res = await app.request("/profile/admin", {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Cookie: cookie,
        Referer: `${ORIGIN}/profile/confirm`,
      },
      body: new URLSearchParams({ key: TRUE_KEY, op: "tolerize", csrf }).toString(),
    });
    expect(res.status).toBe(303);
    const after = store.loadProfile(TRUE_KEY)!;
    expect(after.state).toBe("training");
    expect(after.version).toBe(before.version + 1);
    const page = flat(await (await app.request(res.headers.get("location")!, { headers: { Cookie: cookie } })).text());
    expect(page).toContain("tolerize: normal → training");
    expect(page).toMatch(/<td>normal → training<\/td><td>tolerize<\/td>/);
  });

  it("shows a profile named as markup as text, on every page that names it", async () => {
    const { app } = createConsoleApp({ store });
    const escaped = "&lt;script&gt;alert(1)&lt;/script&gt;";
    for (const path of ["/profiles", "/alerts", "/", `/profile?key=${encodeURIComponent(EVIL_KEY)}`]) {
      const text = await (await app.request(path)).text();
      expect(text, path).not.toContain(EVIL_NAME);
      expect(text, path).toContain(escaped);
    }
  });

  it("offers the seccomp allow-list as an attachment, and refuses a training profile's without training=1", async () => {
    const { app } = createConsoleApp({ store });
    const res = await app.request(`/profile/seccomp.json?key=${encodeURIComponent(TRUE_KEY)}&mode=enforce`);
    // TRUE_KEY may have been tolerized by the test before: its allow-list is then a training one.
    const ok =
      res.status === 200
        ? res
        : await app.request(`/profile/seccomp.json?key=${encodeURIComponent(TRUE_KEY)}&training=1`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-disposition")).toBe('attachment; filename="true-seccomp.json"');
    const policy = (await ok.json()) as { defaultAction: string; syscalls: { names: string[] }[] };
    expect(policy.defaultAction).toBe("SCMP_ACT_ERRNO");
    expect(policy.syscalls[0]!.names).toEqual(["close", "exit_group", "openat", "read", "write"]);
    const training = await app.request(`/profile/seccomp.json?key=${encodeURIComponent(FALSE_KEY)}`);
    expect(training.status).toBe(400);
    const evil = await app.request(`/profile/seccomp.json?key=${encodeURIComponent(EVIL_KEY)}&training=1`);
    // The program's name is what follows the path's last slash: "script>".
    expect(evil.headers.get("content-disposition")).toBe('attachment; filename="script_-seccomp.json"');
  });

  it("sorts, searches and filters through query parameters, and pages alerts by id", async () => {
    const { app } = createConsoleApp({ store });
    const names = async (q: string) =>
      [
        ...(await (await app.request(`/profiles?${q}`)).text()).matchAll(
          /<td><a href="\/profile\?key=[^"]+">([^<]+)<\/a>/g,
        ),
      ].map((m) => m[1]);
    expect(await names("sort=program")).toEqual(["false", "script&gt;", "true"]);
    expect(await names("sort=program&dir=desc")).toEqual(["true", "script&gt;", "false"]);
    expect(await names("q=fals")).toEqual(["false"]);
    expect(await names("q=%25")).toEqual([]); // % is a literal, not a wildcard
    expect(await names("sort=lastAlert&dir=desc")).toEqual(["script&gt;", "true", "false"]);
    expect(await names("sort=DROP TABLE")).toHaveLength(3); // an unknown column falls back to the default
    const alerts = flat(await (await app.request("/alerts?program=true")).text());
    expect([...alerts.matchAll(/<tr data-id="(\d+)"/g)].map((m) => m[1])).toEqual(["2", "1"]);
    expect(alerts).toContain("openat read mprotect");
    const older = flat(await (await app.request("/alerts?before=2")).text());
    expect([...older.matchAll(/<tr data-id="(\d+)"/g)].map((m) => m[1])).toEqual(["1"]);
  });

  it("serves only the assets of its allow-list", async () => {
    const { app } = createConsoleApp({ store });
    for (const path of [
      "/assets/../../etc/passwd",
      "/assets/%2e%2e%2fpackage.json",
      "/assets/package.json",
      "/assets/",
    ]) {
      expect((await app.request(path)).status, path).toBe(404);
    }
    const js = await app.request("/assets/vega-embed.min.js");
    expect(js.headers.get("content-type")).toMatch(/javascript/);
    const again = await app.request("/assets/vega-embed.min.js", {
      headers: { "If-None-Match": js.headers.get("etag")! },
    });
    expect(again.status).toBe(304);
  });

  it("refuses a Host other than the address served when there is no token (DNS rebinding)", async () => {
    const { app } = createConsoleApp({ store, hosts: ["127.0.0.1:8470"] });
    expect((await app.request("http://127.0.0.1:8470/")).status).toBe(200);
    expect((await app.request("http://attacker.example:8470/")).status).toBe(421);
  });
});
