// The connection options of --fleet, --fleet-creds and --fleet-tls-ca: URLs (one or several), a user and password or
// a token in the URL, an nkey seed or a creds file, TLS; every mistake an E_USAGE (or a file's E_NOT_FOUND) whose
// message never holds a secret (checked for arbitrary passwords); and, against real servers, a password, an nkey
// and a TLS server with its own CA each let a host in, while a wrong password or an unknown CA do not.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { nkeys } from "@nats-io/transport-node";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { isHomeostatError } from "../errors.js";
import { selfSignedCertificate } from "../watch/outputs/testing/certificates.js";
import { FleetLink } from "./fleetLink.js";
import { type FleetConnectFlags, planFleetConnection } from "./natsOptions.js";
import { waitFor } from "./testing/fleetTesting.js";
import { natsServerUnavailableReason, startNatsServer } from "./testing/natsServer.js";

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "homeostat-nats-options-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The error's code and its whole text (message, location), or undefined when `f` does not throw. */
function failure(f: () => unknown): { code: string; text: string } | undefined {
  try {
    f();
    return undefined;
  } catch (err) {
    if (!isHomeostatError(err)) throw err;
    return { code: err.code, text: `${err.oneLine()} ${JSON.stringify(err.location)}` };
  }
}

describe("planFleetConnection", () => {
  it("takes servers, user, password and token out of the URLs, and masks them when shown", () => {
    const p = planFleetConnection({ url: "nats://alice:p%40ss@fleet.example:4333" });
    expect(p.servers).toEqual(["fleet.example:4333"]);
    expect(p.auth).toEqual({ kind: "password", user: "alice", pass: "p@ss" });
    expect(p.display).toBe("nats://***@fleet.example:4333");
    expect(p.tls).toBeUndefined();
    expect(planFleetConnection({ url: "nats://s3cr3t@h" }).auth).toEqual({ kind: "token", token: "s3cr3t" });
    const many = planFleetConnection({ url: "nats://a:4222, nats://b ,c:5000" });
    expect(many.servers).toEqual(["a:4222", "b:4222", "c:5000"]);
    expect(many.display).toBe("nats://a:4222,nats://b:4222,nats://c:5000");
    expect(planFleetConnection({ url: "tls://a" }).tls).toEqual({});
    expect(planFleetConnection({ url: "nats://a", tlsCaFile: "/ca.pem" }).tls).toEqual({ caFile: "/ca.pem" });
  });

  it("refuses bad URLs and mixed credentials with E_USAGE", () => {
    const bad: FleetConnectFlags[] = [
      { url: "" },
      { url: "http://a:4222" },
      { url: "nats://a:4222/path" },
      { url: "nats://a:99999" },
      { url: "nats://u:p@a,nats://v:p@b" },
      { url: "tls://a,nats://b" },
    ];
    for (const flags of bad) expect(failure(() => planFleetConnection(flags))?.code, flags.url).toBe("E_USAGE");
  });

  it("never puts a password or token in an error or the shown URL (property)", () => {
    const secret = fc.string({ minLength: 6, maxLength: 30 }).filter((s) => s.trim().length >= 6);
    fc.assert(
      fc.property(secret, fc.constantFrom("", "/x", ":99999", ",http://b"), (pass, tail) => {
        const enc = encodeURIComponent(pass);
        for (const url of [
          `nats://user:${enc}@host${tail}`,
          `nats://${enc}@host${tail}`,
          `nats://user:${pass}@host${tail}`,
        ]) {
          const f = failure(() => planFleetConnection({ url }));
          const shown = f?.text ?? planFleetConnection({ url }).display;
          expect(shown).not.toContain(pass);
          expect(shown).not.toContain(enc);
        }
      }),
    );
  });

  it("reads an nkey seed or a creds file, naming the file (never its contents) when it cannot", () => {
    const dir = tempDir();
    const user = nkeys.createUser();
    const seed = new TextDecoder().decode(user.getSeed());
    const seedFile = path.join(dir, "host.nk");
    writeFileSync(seedFile, `${seed}\n`);
    const plan = planFleetConnection({ url: "nats://h", credsFile: seedFile });
    expect(plan.auth.kind).toBe("nkey");
    const creds = path.join(dir, "host.creds");
    writeFileSync(
      creds,
      `-----BEGIN NATS USER JWT-----\neyJhbGciOi.x.y\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`,
    );
    expect(planFleetConnection({ url: "nats://h", credsFile: creds }).auth.kind).toBe("creds");
    const junk = path.join(dir, "junk");
    writeFileSync(junk, "password=hunter2-very-secret\n");
    const f = failure(() => planFleetConnection({ url: "nats://h", credsFile: junk }));
    expect(f?.code).toBe("E_USAGE");
    expect(f?.text).toContain(junk);
    expect(f?.text).not.toContain("hunter2");
    expect(failure(() => planFleetConnection({ url: "nats://h", credsFile: path.join(dir, "none") }))?.code).toBe(
      "E_NOT_FOUND",
    );
    expect(failure(() => planFleetConnection({ url: "nats://u:p@h", credsFile: seedFile }))?.code).toBe("E_USAGE");
  });
});

/** Connects a link with `flags`; resolves with whether it came up, and its last error. */
async function tryLink(flags: FleetConnectFlags): Promise<{ up: boolean; error: string | undefined }> {
  const link = new FleetLink({
    plan: planFleetConnection(flags),
    backoff: { initialMs: 100, maxMs: 500 },
    onUp: () => {},
    onDown: () => {},
  });
  link.start();
  try {
    await waitFor(() => link.stats.connected || link.stats.failures > 0, "a connection or a failure");
    return { up: link.stats.connected, error: link.stats.lastError };
  } finally {
    await link.close();
  }
}

describe.skipIf(natsServerUnavailableReason() !== undefined)("fleet connections to real servers", () => {
  it("logs in with a password, an nkey, and not with a wrong password", { timeout: 120_000 }, async () => {
    const user = nkeys.createUser();
    const seedFile = path.join(tempDir(), "host.nk");
    writeFileSync(seedFile, new TextDecoder().decode(user.getSeed()));
    const server = await startNatsServer({
      extraConfig: `authorization { users: [ { user: alice, password: "p@ss-word" }, { nkey: ${user.getPublicKey()} } ] }`,
    });
    cleanups.push(() => server.cleanup());
    const hostPort = `127.0.0.1:${server.port}`;
    expect(await tryLink({ url: `nats://alice:${encodeURIComponent("p@ss-word")}@${hostPort}` })).toMatchObject({
      up: true,
    });
    expect(await tryLink({ url: `nats://${hostPort}`, credsFile: seedFile })).toMatchObject({ up: true });
    const wrong = await tryLink({ url: `nats://alice:not-the-password@${hostPort}` });
    expect(wrong.up).toBe(false);
    expect(wrong.error).toMatch(/auth/i);
    expect(wrong.error).not.toContain("not-the-password");
  });

  it(
    "connects over TLS with --fleet-tls-ca, and refuses a server its CA did not sign",
    { timeout: 120_000 },
    async () => {
      const dir = tempDir();
      const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
      selfSignedCertificate(path.join(dir, "ca.key"), path.join(dir, "ca.pem"), "/CN=fleet test CA");
      ssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
      );
      writeFileSync(path.join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
      ssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
      );
      selfSignedCertificate(path.join(dir, "other.key"), path.join(dir, "other.pem"), "/CN=another CA");
      const server = await startNatsServer({
        extraConfig: `tls { cert_file: ${JSON.stringify(path.join(dir, "server.pem"))}, key_file: ${JSON.stringify(path.join(dir, "server.key"))} }`,
      });
      cleanups.push(() => server.cleanup());
      const url = `tls://127.0.0.1:${server.port}`;
      const good = await tryLink({ url, tlsCaFile: path.join(dir, "ca.pem") });
      expect(good, good.error).toMatchObject({ up: true });
      expect((await tryLink({ url, tlsCaFile: path.join(dir, "other.pem") })).up).toBe(false);
    },
  );
});
