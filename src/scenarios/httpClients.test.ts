import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CURL_MARK, parseCurlOutput } from "./httpClients.js";

describe("curl's output, split into responses", () => {
  it("gives back every body and status in order, whatever the bytes (property)", () => {
    const response = fc.record({
      status: fc.integer({ min: 100, max: 599 }),
      body: fc.uint8Array({ maxLength: 300 }),
    });
    fc.assert(
      fc.property(fc.array(response, { maxLength: 6 }), (responses) => {
        const out = Buffer.concat(
          responses.flatMap((r) => [Buffer.from(r.body), Buffer.from(`${CURL_MARK}${r.status}\n`, "latin1")]),
        );
        // A body holding the marker itself cannot be told apart; curl's responses here never do.
        fc.pre(responses.every((r) => !Buffer.from(r.body).toString("latin1").includes(CURL_MARK)));
        const parsed = parseCurlOutput(out);
        expect(parsed.map((p) => p.status)).toEqual(responses.map((r) => r.status));
        expect(parsed.map((p) => [...p.body])).toEqual(responses.map((r) => [...r.body]));
      }),
    );
  });

  it("gives nothing for output without a marker (curl failed before any response)", () => {
    expect(parseCurlOutput(Buffer.from("curl: (7) Failed to connect"))).toEqual([]);
  });
});
