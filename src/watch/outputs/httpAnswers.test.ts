// Reading pipelined HTTP answers as the bytes come: every framing a receiver may use (a length, chunked encoding,
// 1xx answers first, no body, a body to the end of the connection), in any order, cut into pieces at any points
// (fast-check), gives the statuses in order; and bytes that are not HTTP say so.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HttpAnswers } from "./httpAnswers.js";

/** One answer of status `code` in framing `f`; 204 and 304 never have a body. */
function answer(code: number, f: number): string {
  if (code === 204 || code === 304) return `HTTP/1.1 ${code} X\r\nX-Seen: 1\r\n\r\n`;
  switch (f) {
    case 0:
      return `HTTP/1.1 ${code} X\r\nContent-Length: 5\r\n\r\nhello`;
    case 1:
      return `HTTP/1.1 ${code} X\r\ncontent-length: 0\r\nX-Thing: y\r\n\r\n`;
    case 2:
      return `HTTP/1.1 ${code} X\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: 1\r\n\r\n`;
    case 3:
      return `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 ${code} X\r\nContent-Length: 2\r\n\r\nok`;
    default:
      return `HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 ${code} OK\r\nContent-Length: 1\r\n\r\n!`;
  }
}

/** `bytes` cut at `cuts` (positions, any order, repeats allowed). */
function pieces(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const bounds = [0, ...at, bytes.length];
  return bounds.slice(1).map((end, i) => bytes.subarray(bounds[i], end));
}

describe("reading HTTP answers", () => {
  it("gives every final answer's status in order, whatever the framing and wherever the bytes are cut", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ code: fc.constantFrom(200, 201, 204, 304, 400, 404, 429, 503), f: fc.nat(4) }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.boolean(),
        fc.array(fc.nat(2000), { maxLength: 8 }),
        (answers, toTheEnd, cuts) => {
          let text = answers.map((a) => answer(a.code, a.f)).join("");
          // The last answer may have no length: its body runs to the end of the connection.
          if (toTheEnd) text += "HTTP/1.1 202 Accepted\r\nConnection: close\r\n\r\nall of this is the body";
          const got: [number, boolean][] = [];
          const reader = new HttpAnswers((status, keepAlive) => got.push([status, keepAlive]));
          for (const piece of pieces(Buffer.from(text, "latin1"), cuts)) expect(reader.push(piece)).toBeUndefined();
          expect(reader.end()).toBe(true);
          const want: [number, boolean][] = answers.map((a) => [a.code, true]);
          if (toTheEnd) want.push([202, false]);
          expect(got).toEqual(want);
        },
      ),
    );
  });

  it("says so when the bytes are not HTTP, and when the connection ends inside an answer", () => {
    const reader = new HttpAnswers(() => {});
    expect(reader.push(Buffer.from("SSH-2.0-OpenSSH_9.2\r\n\r\n"))).toBeDefined();
    const cut = new HttpAnswers(() => {});
    expect(cut.push(Buffer.from("HTTP/1.1 200 OK\r\nContent-Le"))).toBeUndefined();
    expect(cut.end()).toBe(false);
  });

  it("says that the connection closes after an answer that says so, and reads an HTTP/1.0 answer as closing", () => {
    const got: [number, boolean][] = [];
    const reader = new HttpAnswers((status, keepAlive) => got.push([status, keepAlive]));
    reader.push(Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
    reader.push(Buffer.from("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
    expect(got).toEqual([
      [200, false],
      [200, false],
    ]);
  });
});
