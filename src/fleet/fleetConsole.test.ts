// The fleet console over HTTP without a network (app.request) on a fleet database filled directly: serve's
// security on every page and API path (headers, Content-Security-Policy, 401 without the token and the token as a
// bearer header, the Host check without one), stored strings shown as text, and JSON errors under /api/.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTENT_SECURITY_POLICY } from "../serve/security.js";
import { createFleetConsoleApp } from "./fleetConsole.js";
import type { FleetStatus } from "./fleetConsoleEnv.js";
import { decodeMessage, encodeMessage } from "./fleetMessages.js";
import { subjectFor } from "./fleetNames.js";
import { FleetStore } from "./fleetStore.js";
import { envelope, hostAlert } from "./testing/fleetTraffic.js";

const TOKEN = "correct-horse-battery-staple";
const EVIL = "<script>alert(1)</script>";
const PATHS = ["/", "/alerts", "/alerts?host=web-1", "/programs", "/api/fleet/hosts", "/api/fleet/status"];
const status = (): FleetStatus => ({ connected: true, ingest: { stored: 1 }, profiles: {}, pool: null });

describe("the fleet console over HTTP (app.request)", () => {
  let dir: string;
  let store: FleetStore;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "homeostat-fleet-console-"));
    store = FleetStore.open(dir);
    const env = envelope("web-1", 1, Date.now() - 5000);
    const alert = hostAlert("web-1", `/usr/bin/${EVIL}`, env.time, EVIL);
    store.storeMessages([
      decodeMessage(subjectFor("alerts", "web-1"), encodeMessage("alerts", env, JSON.stringify(alert))),
    ]);
  });
  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves every page with the security headers, stored strings as text", async () => {
    const app = createFleetConsoleApp({ store, status });
    for (const p of PATHS) {
      const res = await app.request(p);
      expect(res.status, p).toBe(200);
      expect(res.headers.get("content-security-policy"), p).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers.get("x-content-type-options"), p).toBe("nosniff");
      const text = await res.text();
      expect(text, p).not.toContain(EVIL);
    }
    const alerts = await (await app.request("/alerts")).text();
    expect(alerts).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(alerts).not.toMatch(/<script>(?!<\/script>)/);
  });

  it("answers 401 without the token, and to the token as a bearer header", async () => {
    const app = createFleetConsoleApp({ store, status, token: TOKEN });
    for (const p of PATHS) expect((await app.request(p)).status, p).toBe(401);
    const res = await app.request("/api/fleet/hosts", { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const { hosts } = (await res.json()) as { hosts: { id: string; alerts: number; status: string }[] };
    expect(hosts).toEqual([expect.objectContaining({ id: "web-1", alerts: 1, status: "no heartbeat" })]);
  });

  it("refuses another Host without a token, and answers API errors as JSON", async () => {
    const app = createFleetConsoleApp({ store, status, hosts: ["127.0.0.1:8471"] });
    expect((await app.request("http://127.0.0.1:8471/")).status).toBe(200);
    expect((await app.request("http://attacker.example:8471/")).status).toBe(421);
    const missing = await app.request("http://127.0.0.1:8471/api/fleet/programs/b-00");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "no host has a profile of program b-00" });
    expect((await app.request("http://127.0.0.1:8471/program?id=b-00")).status).toBe(404);
    expect((await app.request("http://127.0.0.1:8471/program/confirm?id=b-00&op=explode")).status).toBe(400);
  });
});
