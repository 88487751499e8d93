// What the answer to one POST of one alert (Falco's JSON) means for its sender: 2xx delivered; 408, 429, 5xx, a
// network error or a timeout are worth retrying later; any other answer (400: the receiver will never take this
// alert) is a rejection, so that one bad alert cannot block those behind it. And the URL of --alerts-http, checked.
// The client that sends them is httpPipeline.ts.

import { HomeostatError } from "../../errors.js";

export interface PostOutcome {
  kind: "delivered" | "rejected" | "retry";
  /** The HTTP status, when the receiver answered. */
  status?: number;
  /** Why it failed, when it did not answer (ECONNREFUSED, timeout). */
  error?: string;
  /** The receiver closed the connection after this answer (it does not keep connections open). */
  closes?: true;
}

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
