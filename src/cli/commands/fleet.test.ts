// `homeostat fleet serve` and `homeostat profiles <op> --fleet` as a user runs them (the built CLI: run `npm run
// build` first): usage errors before anything connects, an unreachable server, a second fleet serve refused on a
// state directory in use; an operation put in the fleet's admin bucket for a program named by its identity or by
// its executable's name as the hosts' snapshots give it.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeAdminOp } from "../../fleet/adminOp.js";
import { startFleetChild } from "../../fleet/testing/fleetChild.js";
import { putSnapshot, trainedProfile } from "../../fleet/testing/fleetTraffic.js";
import { type NatsServer, natsServerUnavailableReason, startNatsServer } from "../../fleet/testing/natsServer.js";
import { BIN } from "../../testing/paths.js";

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const PROGRAM = `b-${"12".repeat(20)}`;

describe("homeostat fleet serve (no server needed)", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-fleet-cli-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses bad usage before connecting, and says when no server answers", () => {
    const state = ["--state", join(dir, "s")];
    expect(run(["fleet", "serve", ...state]).code).toBe(2); // no --nats
    const open = run(["fleet", "serve", "--nats", "nats://127.0.0.1:1", ...state, "--listen", "0.0.0.0:0"]);
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/not a loopback address/);
    expect(run(["fleet", "serve", "--nats", "http://127.0.0.1:4222", ...state]).code).toBe(2);
    const down = run(["fleet", "serve", "--nats", "nats://127.0.0.1:1", ...state, "--no-console"]);
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/);
  });
});

describe.skipIf(natsServerUnavailableReason() !== undefined)("fleet commands against nats-server", () => {
  let server: NatsServer;
  const dir = mkdtempSync(join(tmpdir(), "homeostat-fleet-cli-"));
  beforeAll(async () => {
    server = await startNatsServer();
  }, 120_000);
  afterAll(async () => {
    await server?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a second fleet serve on a state directory in use", { timeout: 120_000 }, async () => {
    const args = ["--nats", server.url, "--state", join(dir, "fleet"), "--no-console"];
    const first = await startFleetChild(args);
    try {
      const second = run(["fleet", "serve", ...args]);
      expect(second.code).toBe(3);
      expect(second.stderr).toMatch(new RegExp(`E_LOCKED.*in use by another process \\(pid ${first.child.pid}\\)`));
    } finally {
      const stopped = await first.stop();
      expect(stopped.event).toBe("stopped");
    }
  });

  it("puts an operation for a program named by identity or by name", { timeout: 120_000 }, async () => {
    const nc = await connect({ servers: server.url });
    try {
      const kvm = new Kvm(nc);
      const profiles = await kvm.create("homeostat_profiles", { history: 1 });
      await putSnapshot(profiles, PROGRAM, "web-1", "/usr/local/bin/app", trainedProfile([1, 2, 3], 5, false));
      const admin = () => kvm.open("homeostat_admin");
      const byId = run(["profiles", "tolerize", PROGRAM, "--fleet", server.url, "--json"]);
      expect(byId.code, byId.stderr).toBe(0);
      const sent = JSON.parse(byId.stdout) as { program: string; op: string; id: string; hosts: string[] }[];
      expect(sent).toEqual([expect.objectContaining({ program: PROGRAM, op: "tolerize", hosts: ["web-1"] })]);
      expect(decodeAdminOp((await (await admin()).get(PROGRAM))!.value).id).toBe(sent[0]!.id);
      const byName = run(["profiles", "reset", "app", "--fleet", server.url]);
      expect(byName.code, byName.stderr).toBe(0);
      expect(byName.stdout).toMatch(new RegExp(`^reset: ${PROGRAM}: sent to the fleet .*1 host report`));
      expect(decodeAdminOp((await (await admin()).get(PROGRAM))!.value).op).toBe("reset");
      const none = run(["profiles", "reset", "no-such-program", "--fleet", server.url]);
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/no host of the fleet reported a profile of "no-such-program"/);
    } finally {
      await nc.close();
    }
  });
});
