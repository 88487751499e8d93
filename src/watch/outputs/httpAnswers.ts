// The answers on one HTTP/1.1 connection, read in order as the bytes come (httpPipeline.ts pipelines requests, so
// one read may hold several answers, or part of one). The parsing is http-parser-js's (Node's HTTP parser in
// JavaScript): status line, headers, and a body framed by Content-Length, chunked encoding or the end of the
// connection, read and dropped. Interim answers (1xx) are skipped: the final answer is to come.

import { HTTPParser } from "http-parser-js";

/** One final answer: its status, and whether the connection stays open after it. */
export type OnAnswer = (status: number, keepAlive: boolean) => void;

export class HttpAnswers {
  private readonly parser = new HTTPParser(HTTPParser.RESPONSE);
  private status = 0;
  private keepAlive = true;

  constructor(onAnswer: OnAnswer) {
    const p = this.parser;
    p[HTTPParser.kOnHeadersComplete] = (info) => {
      this.status = info.statusCode;
      this.keepAlive = info.shouldKeepAlive;
      // An interim answer (1xx) and 204/304 have no body: returning 1 tells the parser so.
      return info.statusCode < 200 || info.statusCode === 204 || info.statusCode === 304 ? 1 : 0;
    };
    p[HTTPParser.kOnBody] = () => {};
    p[HTTPParser.kOnMessageComplete] = () => {
      if (this.status >= 100 && this.status < 200) return; // 100 Continue, 103 Early Hints
      onAnswer(this.status, this.keepAlive);
    };
  }

  /** Reads `chunk`; returns what was wrong when it is not HTTP (the connection is then of no further use). */
  push(chunk: Buffer): string | undefined {
    const parsed = this.parser.execute(chunk);
    return parsed instanceof Error ? parsed.message : undefined;
  }

  /** The connection ended: a body that runs to its end is complete; false when an answer was cut short. */
  end(): boolean {
    return !(this.parser.finish() instanceof Error);
  }
}
