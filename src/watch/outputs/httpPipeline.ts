// The HTTP client of the alert output: POSTs over one keep-alive connection, several at a time with HTTP/1.1
// pipelining (RFC 9112 §9.3): a batch's requests go out in one write and their answers come back in order. Node's
// own client and undici write each request on its own, and on a virtual machine a write to a socket (the wake-up of
// the receiver) costs far more than making the request; one write per batch is what lets a host deliver thousands
// of alerts a second, one alert per POST as Falcosidekick takes them, without taking the CPU the engine needs.
//
// Answers are read in order by httpAnswers.ts. A batch ends at its first answer that is not taken (408, 429, 5xx) or
// when the connection fails, closes or times out; the requests after that point may or may not have reached the
// receiver, so the connection is dropped (their late answers must not be read as answers to the next batch) and the
// caller sends them again: at least once, never lost.

import net from "node:net";
import tls from "node:tls";
import { HttpAnswers, type OnAnswer } from "./httpAnswers.js";
import { outcomeOf, type PostOutcome } from "./httpPost.js";

/**
 * Posts `bodies` to `url` in order; resolves (never rejects) with the outcomes of a prefix of them, in order. When
 * shorter than `bodies`, it ends with a "retry" outcome (the receiver failed: try the rest later), or it does not
 * (the receiver closed the connection after an answer, as one that does not keep connections open does: send the
 * rest again now).
 */
export type PipelinedPost = (url: URL, bodies: readonly string[], signal: AbortSignal) => Promise<PostOutcome[]>;

export interface PipelineOptions {
  /** Milliseconds a batch may take, from its write (or the connection's start) to its last answer. */
  timeoutMs: number;
  userAgent: string;
  /** Certificates to trust for https, instead of the system's (a receiver with its own authority; tests). */
  ca?: string;
}

/** One connection to one origin, with at most one batch in flight. */
class Connection {
  /** Told of each final answer and of a failure, by the batch in flight. */
  onAnswer: OnAnswer | undefined;
  onFailure: ((why: string) => void) | undefined;
  dead = false;
  /** Final answers read on it: a failure before any on a connection that had some is a stale keep-alive. */
  answers = 0;

  constructor(
    readonly origin: string,
    readonly socket: net.Socket,
  ) {
    const answers = new HttpAnswers((status, keepAlive) => {
      this.answers++;
      if (!keepAlive) this.retire();
      this.onAnswer?.(status, keepAlive);
    });
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      const wrong = answers.push(chunk);
      if (wrong !== undefined) this.fail(`the receiver's answer is not HTTP (${wrong})`);
    });
    socket.on("end", () => {
      // A body that runs to the end of the connection ends here.
      const whole = answers.end();
      this.fail(whole ? "the receiver closed the connection" : "the receiver closed the connection mid-answer");
    });
    socket.on("error", (err: NodeJS.ErrnoException) => this.fail(err.code ?? err.message));
    socket.on("close", () => this.fail("the connection closed"));
  }

  /** Not used again (the receiver said it closes it); unlike fail, not a failure of the batch in flight. */
  retire(): void {
    this.dead = true;
    this.socket.destroy();
  }

  fail(why: string): void {
    if (!this.dead) {
      this.dead = true;
      this.socket.destroy();
    }
    this.onFailure?.(why);
  }
}

/** The request line and headers of one POST of `bytes` bytes of JSON. */
function head(url: URL, bytes: number, userAgent: string): string {
  return (
    `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUser-Agent: ${userAgent}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${bytes}\r\n\r\n`
  );
}

function open(url: URL, ca: string | undefined): net.Socket {
  const port = Number(url.port !== "" ? url.port : url.protocol === "https:" ? 443 : 80);
  // A bracketed IPv6 literal ([::1]) is connected to without its brackets.
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (url.protocol === "https:") {
    return tls.connect({
      host,
      port,
      ...(net.isIP(host) === 0 ? { servername: host } : {}),
      ALPNProtocols: ["http/1.1"],
      ...(ca !== undefined ? { ca } : {}),
    });
  }
  return net.connect({ host, port });
}

/** A pipelining poster with its one connection (opened on first use, again after a failure); `close` ends it. */
export function pipelinedPoster(options: PipelineOptions): { post: PipelinedPost; close: () => void } {
  let conn: Connection | undefined;
  const connection = (url: URL): Connection => {
    if (conn !== undefined && !conn.dead && conn.origin === url.origin) return conn;
    conn?.fail("the receiver changed");
    conn = new Connection(url.origin, open(url, options.ca));
    return conn;
  };
  const send = (url: URL, bodies: readonly string[], signal: AbortSignal, fresh: boolean): Promise<PostOutcome[]> => {
    if (signal.aborted) return Promise.resolve([{ kind: "retry", error: "aborted" }]);
    const c = connection(url);
    const reused = c.answers > 0;
    return new Promise<PostOutcome[]>((resolve) => {
      const outcomes: PostOutcome[] = [];
      const finish = (why?: string, broken = false): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        c.onAnswer = undefined;
        c.onFailure = undefined;
        // A keep-alive connection the receiver had closed while idle fails before any answer: once, a new one.
        if (broken && outcomes.length === 0 && reused && !fresh) {
          resolve(send(url, bodies, signal, true));
          return;
        }
        if (outcomes.length < bodies.length) {
          // Answers still owed on this connection would be taken for the next batch's: drop it.
          if (!c.dead) c.fail("dropped");
          if (why !== undefined) outcomes.push({ kind: "retry", error: why });
        }
        resolve(outcomes);
      };
      c.onAnswer = (status, keepAlive) => {
        const outcome: PostOutcome = { kind: outcomeOf(status), status, ...(keepAlive ? {} : { closes: true }) };
        outcomes.push(outcome);
        if (outcome.kind === "retry" || outcomes.length === bodies.length) finish();
        // The receiver closes the connection after this answer: the rest were not taken, and that is no failure.
        else if (!keepAlive) finish();
      };
      c.onFailure = (why) => finish(why, true);
      const onAbort = (): void => finish("aborted");
      signal.addEventListener("abort", onAbort);
      const timer = setTimeout(() => finish(`no answer within ${options.timeoutMs} ms`), options.timeoutMs);
      let text = "";
      for (const body of bodies) text += head(url, Buffer.byteLength(body), options.userAgent) + body;
      c.socket.write(text, "utf8");
    });
  };
  const post: PipelinedPost = (url, bodies, signal) =>
    bodies.length === 0 ? Promise.resolve([]) : send(url, bodies, signal, false);
  return {
    post,
    close: () => {
      conn?.fail("closed");
      conn = undefined;
    },
  };
}
