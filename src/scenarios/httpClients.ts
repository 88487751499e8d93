// Real HTTP clients for the web scenarios: curl (several requests on one kept-alive connection, ranges, HEAD,
// conditional GETs), wget, Python's urllib and Node's own http module (keep-alive agent). Each request says what the
// response must be (status, body size, a text it must hold), and a response that differs is an error: the normal
// workload of a recording must really succeed. The clients are not traced; only the server side is recorded. Node's
// client accepts CGI output whose header lines end in a bare LF, as curl, wget and urllib do.

import { spawn } from "node:child_process";
import http from "node:http";
import { HomeostatError } from "../errors.js";
import { toolPath } from "./tools.js";

export type HttpClient = "curl" | "wget" | "python" | "node";

export interface HttpCall {
  method: "GET" | "HEAD" | "POST";
  /** Path and query, already URL-encoded. */
  path: string;
  range?: [number, number];
  /** Send If-Modified-Since with a date after every file's. */
  ifModifiedSince?: boolean;
  body?: string;
  expect: { status: number; bytes?: number; contains?: string };
}

export interface HttpAction {
  client: HttpClient;
  /** More than one only for curl and node (one connection, kept alive). */
  calls: HttpCall[];
}

export interface HttpResponse {
  status: number;
  body: Buffer;
}

const IMS = "Fri, 01 Jan 2038 00:00:00 GMT";
/** What curl writes after each response (then the status and a newline). */
export const CURL_MARK = "\n__HS_RESPONSE_7f3a__ ";
const MARK = CURL_MARK;

/** Runs a program to completion, collecting stdout and stderr. */
function run(
  command: string,
  args: readonly string[],
): Promise<{ stdout: Buffer; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code) => resolve({ stdout: Buffer.concat(out), stderr, code }));
  });
}

function curlArgs(base: string, call: HttpCall): string[] {
  const args = ["-s", "--max-time", "60", "-w", `${MARK}%{http_code}\n`];
  if (call.method === "HEAD") args.push("-I");
  if (call.range) args.push("-r", `${call.range[0]}-${call.range[1]}`);
  if (call.ifModifiedSince) args.push("-H", `If-Modified-Since: ${IMS}`);
  if (call.body !== undefined) args.push("--data-binary", call.body, "-H", "Content-Type: text/plain");
  return [...args, `${base}${call.path}`];
}

/** curl's output with `-w MARK%{http_code}\n` after each response: the responses, in order. */
export function parseCurlOutput(stdout: Buffer): HttpResponse[] {
  const text = stdout.toString("latin1");
  const out: HttpResponse[] = [];
  let from = 0;
  for (;;) {
    const at = text.indexOf(MARK, from);
    if (at < 0) break;
    const end = text.indexOf("\n", at + MARK.length);
    out.push({ status: Number(text.slice(at + MARK.length, end)), body: stdout.subarray(from, at) });
    from = end + 1;
  }
  return out;
}

async function viaCurl(base: string, calls: readonly HttpCall[]): Promise<HttpResponse[]> {
  const args = calls.flatMap((c, i) => [...(i > 0 ? ["--next"] : []), ...curlArgs(base, c)]);
  const { stdout } = await run(toolPath("curl") ?? "curl", args);
  return parseCurlOutput(stdout);
}

async function viaWget(base: string, call: HttpCall): Promise<HttpResponse[]> {
  const args = ["-q", "-S", "-O", "-", "--tries=1", "--timeout=60", "--content-on-error"];
  if (call.method === "HEAD") args.push("--method=HEAD");
  if (call.range) args.push(`--header=Range: bytes=${call.range[0]}-${call.range[1]}`);
  if (call.ifModifiedSince) args.push(`--header=If-Modified-Since: ${IMS}`);
  if (call.body !== undefined) args.push(`--post-data=${call.body}`);
  const { stdout, stderr } = await run(toolPath("wget") ?? "wget", [...args, `${base}${call.path}`]);
  const statuses = [...stderr.matchAll(/^\s*HTTP\/\d\.\d (\d{3})/gm)].map((m) => Number(m[1]));
  return [{ status: statuses[statuses.length - 1] ?? 0, body: stdout }];
}

const PYTHON_CLIENT = `
import sys, urllib.request, urllib.error
method, url, ims, rng, body = sys.argv[1:6]
req = urllib.request.Request(url, method=method, data=body.encode() if body else None)
if ims: req.add_header("If-Modified-Since", ims)
if rng: req.add_header("Range", "bytes=" + rng)
try:
    with urllib.request.urlopen(req, timeout=60) as r: status, data = r.status, r.read()
except urllib.error.HTTPError as e: status, data = e.code, e.read()
sys.stdout.buffer.write(str(status).encode() + b"\\n" + data)
`;

async function viaPython(base: string, call: HttpCall): Promise<HttpResponse[]> {
  const range = call.range ? `${call.range[0]}-${call.range[1]}` : "";
  const args = [
    "-c",
    PYTHON_CLIENT,
    call.method,
    `${base}${call.path}`,
    call.ifModifiedSince ? IMS : "",
    range,
    call.body ?? "",
  ];
  const { stdout } = await run(toolPath("python3") ?? "python3", args);
  const nl = stdout.indexOf(0x0a);
  return [{ status: Number(stdout.subarray(0, nl).toString()), body: stdout.subarray(nl + 1) }];
}

function nodeRequest(agent: http.Agent, base: string, call: HttpCall): Promise<HttpResponse> {
  const headers: Record<string, string> = {};
  if (call.range) headers.Range = `bytes=${call.range[0]}-${call.range[1]}`;
  if (call.ifModifiedSince) headers["If-Modified-Since"] = IMS;
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}${call.path}`,
      { method: call.method, agent, headers, timeout: 60_000, insecureHTTPParser: true },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (b: Buffer) => chunks.push(b));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.end(call.body);
  });
}

async function viaNode(base: string, calls: readonly HttpCall[]): Promise<HttpResponse[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const out: HttpResponse[] = [];
    for (const c of calls) out.push(await nodeRequest(agent, base, c));
    return out;
  } finally {
    agent.destroy();
  }
}

/** Sends the action's requests to 127.0.0.1:port; its responses, in order. */
export async function sendHttp(port: number, action: HttpAction): Promise<HttpResponse[]> {
  const base = `http://127.0.0.1:${port}`;
  switch (action.client) {
    case "curl":
      return viaCurl(base, action.calls);
    case "wget":
      return viaWget(base, action.calls[0]!);
    case "python":
      return viaPython(base, action.calls[0]!);
    case "node":
      return viaNode(base, action.calls);
  }
}

/** Sends the action and checks every response; E_IO naming the first that differs from what the plan expects. */
export async function httpMust(port: number, action: HttpAction): Promise<HttpResponse[]> {
  const responses = await sendHttp(port, action).catch((err: unknown) => {
    throw new HomeostatError("E_IO", `${action.client}: ${(err as Error).message}`);
  });
  action.calls.forEach((call, i) => {
    const r = responses[i];
    const { status, bytes, contains } = call.expect;
    const bad =
      r === undefined ||
      r.status !== status ||
      (bytes !== undefined && r.body.length !== bytes) ||
      (contains !== undefined && !r.body.toString("latin1").includes(contains));
    if (bad) {
      const got = r === undefined ? "no response" : `${r.status}, ${r.body.length} bytes`;
      throw new HomeostatError(
        "E_IO",
        `${action.client} ${call.method} ${call.path}: expected ${status}${bytes !== undefined ? `, ${bytes} bytes` : ""}${contains ? `, "${contains}"` : ""}; got ${got}`,
      );
    }
  });
  return responses;
}
