// The pipelining HTTP client against real servers on ports from the OS: a scripted one (testing/scriptedServer.ts:
// each request answered with bytes the test chooses), Node's own HTTP server, and a TLS server with a certificate
// made by openssl for the test.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { until } from "../../response/testing/waits.js";
import { type PipelinedPost, pipelinedPoster } from "./httpPipeline.js";
import { selfSignedCertificate } from "./testing/certificates.js";
import { ScriptedServer } from "./testing/scriptedServer.js";

const root = mkdtempSync(join(tmpdir(), "homeostat-pipeline-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
const status = (code: number): string => `HTTP/1.1 ${code} X\r\nContent-Length: 0\r\n\r\n`;
const bodies = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => JSON.stringify({ n: from + i }));
const never = new AbortController().signal;

async function withPoster<T>(fn: (post: PipelinedPost) => Promise<T>, timeoutMs = 10_000, ca?: string): Promise<T> {
  const poster = pipelinedPoster({ timeoutMs, userAgent: "homeostat-test", ...(ca !== undefined ? { ca } : {}) });
  try {
    return await fn(poster.post);
  } finally {
    poster.close();
  }
}

describe("the pipelining HTTP client", () => {
  it("writes a batch without waiting for answers, on one connection, and reads the answers in order", async () => {
    // The server answers nothing until it has all 16 requests: a client that waited for each answer would hang.
    const server = new ScriptedServer((n) => (n < 15 ? undefined : ok.repeat(16)));
    const url = await server.start();
    const outcomes = await withPoster((post) => post(url, bodies(16), never));
    expect(outcomes).toEqual(Array(16).fill({ kind: "delivered", status: 200 }));
    expect(server.bodies).toEqual(bodies(16));
    expect(server.connections).toBe(1);
    await server.stop();
  });

  it("sends the path, query, host, type and length of each POST as Node's server reads them", async () => {
    const seen: { url?: string; host?: string; type?: string; length?: string; body: string }[] = [];
    const server = http.createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => (body += c));
      req.on("end", () => {
        const h = req.headers;
        seen.push({ url: req.url, host: h.host, type: h["content-type"], length: h["content-length"], body });
        res.end("thanks");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    const texts = [JSON.stringify({ output: "é ✓ 𝄞" }), "{}", JSON.stringify({ n: 3 })];
    const outcomes = await withPoster((post) => post(new URL(`http://127.0.0.1:${port}/in?a=b`), texts, never));
    expect(outcomes.map((o) => o.kind)).toEqual(["delivered", "delivered", "delivered"]);
    expect(seen).toEqual(
      texts.map((body) => ({
        url: "/in?a=b",
        host: `127.0.0.1:${port}`,
        type: "application/json",
        length: String(Buffer.byteLength(body)),
        body,
      })),
    );
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it("ends a batch at its first answer to retry, drops the connection, and opens a new one next time", async () => {
    const codes = [200, 400, 200, 503, 200, 200];
    const server = new ScriptedServer((n) => status(codes[n] ?? 200));
    const url = await server.start();
    await withPoster(async (post) => {
      const first = await post(url, bodies(6), never);
      expect(first).toEqual([
        { kind: "delivered", status: 200 },
        { kind: "rejected", status: 400 },
        { kind: "delivered", status: 200 },
        { kind: "retry", status: 503 },
      ]);
      const again = await post(url, bodies(2, 3), never);
      expect(again.map((o) => o.kind)).toEqual(["delivered", "delivered"]);
    });
    expect(server.connections).toBe(2);
    await server.stop();
  });

  it("takes a receiver that closes the connection after each answer: the rest are not failures", async () => {
    const server = new ScriptedServer(() => "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
    const url = await server.start();
    await withPoster(async (post) => {
      const sent: string[] = [];
      const all = bodies(5);
      while (sent.length < all.length) {
        const outcomes = await post(url, all.slice(sent.length), never);
        expect(outcomes.length).toBeGreaterThan(0);
        expect(outcomes.every((o) => o.kind === "delivered")).toBe(true);
        sent.push(...all.slice(sent.length, sent.length + outcomes.length));
      }
    });
    // Each request the receiver answered is taken; the others it read may be read again: only answered ones count.
    expect(new Set(server.bodies)).toEqual(new Set(bodies(5)));
    await server.stop();
  });

  it("sends again, once, on a new connection when the receiver had closed the idle one", async () => {
    const server = new ScriptedServer(() => ok);
    const url = await server.start();
    await withPoster(async (post) => {
      expect((await post(url, bodies(2), never)).length).toBe(2);
      server.dropConnections();
      const outcomes = await post(url, bodies(3, 2), never);
      expect(outcomes.map((o) => o.kind)).toEqual(["delivered", "delivered", "delivered"]);
    });
    expect(server.bodies.slice(-3)).toEqual(bodies(3, 2));
    await server.stop();
  });

  it("says why when nothing listens, nothing answers in time, the answer is not HTTP, or it was aborted", async () => {
    const closed = new ScriptedServer(() => ok);
    const deadUrl = await closed.start();
    await closed.stop();
    const refused = await withPoster((post) => post(deadUrl, bodies(3), never));
    expect(refused).toEqual([{ kind: "retry", error: "ECONNREFUSED" }]);

    const silent = new ScriptedServer(() => undefined);
    const silentUrl = await silent.start();
    const late = await withPoster((post) => post(silentUrl, bodies(2), never), 300);
    expect(late).toEqual([{ kind: "retry", error: "no answer within 300 ms" }]);

    const abort = new AbortController();
    const aborted = withPoster((post) => post(silentUrl, bodies(2), abort.signal));
    await until("the request to arrive", () => silent.bodies.length === 4);
    abort.abort();
    expect(await aborted).toEqual([{ kind: "retry", error: "aborted" }]);
    await silent.stop();

    const garbage = new ScriptedServer(() => "SSH-2.0-OpenSSH\r\n\r\n");
    const garbageUrl = await garbage.start();
    const bad = await withPoster((post) => post(garbageUrl, bodies(1), never));
    expect(bad).toHaveLength(1);
    expect(bad[0]!.kind).toBe("retry");
    expect(bad[0]!.error).toMatch(/not HTTP/);
    await garbage.stop();
  });

  it("speaks https to a receiver whose certificate it is given to trust", async () => {
    const key = join(root, "key.pem");
    const cert = join(root, "cert.pem");
    selfSignedCertificate(key, cert, "/CN=localhost", ["-addext", "subjectAltName=DNS:localhost"]);
    const got: string[] = [];
    const server = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString("utf8")));
      req.on("end", () => {
        got.push(body);
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = new URL(`https://localhost:${(server.address() as net.AddressInfo).port}/`);
    const trusted = await withPoster((post) => post(url, bodies(4), never), 10_000, readFileSync(cert, "utf8"));
    expect(trusted.map((o) => o.kind)).toEqual(["delivered", "delivered", "delivered", "delivered"]);
    expect(got).toEqual(bodies(4));
    // Not trusted (the system's authorities only): refused, and retried later, never sent in clear.
    const untrusted = await withPoster((post) => post(url, bodies(1), never));
    expect(untrusted).toHaveLength(1);
    expect(untrusted[0]!.kind).toBe("retry");
    expect(got).toHaveLength(4);
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
});
