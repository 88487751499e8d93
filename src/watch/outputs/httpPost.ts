// One HTTP POST of one alert (Falco's JSON) to a receiver such as Falcosidekick, classified for the sender: 2xx
// delivered; 408, 429, 5xx, a network error or a timeout are worth retrying later; any other answer (400: the
// receiver will never take this alert) is a rejection, so that one bad alert cannot block those behind it. Keep-alive
// connections, one at a time (the sender posts one alert at a time, to keep the order).

import http from "node:http";
import https from "node:https";
import { HomeostatError } from "../../errors.js";

export interface PostOutcome {
  kind: "delivered" | "rejected" | "retry";
  /** The HTTP status, when the receiver answered. */
  status?: number;
  /** Why it failed, when it did not answer (ECONNREFUSED, timeout). */
  error?: string;
}

/** Posts `body` to `url`; never rejects (a failure is an outcome). */
export type PostFn = (url: URL, body: string, signal: AbortSignal) => Promise<PostOutcome>;

/** The URL of --alerts-http, checked: http or https only. */
export function alertsUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new HomeostatError("E_USAGE", `--alerts-http needs a URL such as http://127.0.0.1:2801/, got "${text}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new HomeostatError("E_USAGE", `--alerts-http takes an http:// or https:// URL, got "${text}"`);
  }
  return url;
}

/** The outcome class of an HTTP status. */
export function outcomeOf(status: number): PostOutcome["kind"] {
  if (status >= 200 && status < 300) return "delivered";
  if (status === 408 || status === 429 || status >= 500) return "retry";
  return "rejected";
}

/** A poster with its own keep-alive agents; `timeoutMs` bounds one request from connect to the answer's end. */
export function httpPoster(timeoutMs: number, userAgent: string): { post: PostFn; close: () => void } {
  const agents = {
    "http:": new http.Agent({ keepAlive: true, maxSockets: 1 }),
    "https:": new https.Agent({ keepAlive: true, maxSockets: 1 }),
  };
  const post: PostFn = (url, body, signal) =>
    new Promise<PostOutcome>((resolve) => {
      const mod = url.protocol === "https:" ? https : http;
      const req = mod.request(url, {
        method: "POST",
        agent: agents[url.protocol as "http:" | "https:"],
        signal,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "user-agent": userAgent,
        },
      });
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      const settle = (outcome: PostOutcome): void => {
        clearTimeout(timer);
        resolve(outcome);
      };
      req.on("response", (res) => {
        res.resume();
        res.on("end", () => settle({ kind: outcomeOf(res.statusCode ?? 0), status: res.statusCode ?? 0 }));
        res.on("error", (err) => settle({ kind: "retry", error: err.message }));
      });
      req.on("error", (err: NodeJS.ErrnoException) => settle({ kind: "retry", error: err.code ?? err.message }));
      req.end(body);
    });
  return {
    post,
    close: () => {
      agents["http:"].destroy();
      agents["https:"].destroy();
    },
  };
}
