import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findMarker, markedCommand, shellQuote } from "./shellSession.js";

/** Runs `script` in /bin/sh, as the session shell does. */
function sh(script: string): string {
  return spawnSync("/bin/sh", ["-c", script], { encoding: "utf8" }).stdout;
}

describe("the driver shell's protocol", () => {
  it("quotes any string so that the shell reads it back unchanged (property)", () => {
    const text = fc.string({ unit: "binary-ascii", maxLength: 40 }).filter((s) => !s.includes("\0"));
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 4 }), (words) => {
        const out = sh(`printf '%s\\0' ${words.map(shellQuote).join(" ")}`);
        expect(out.split("\0").slice(0, -1)).toEqual(words);
      }),
      { numRuns: 40 },
    );
  });

  it("finds each command's exit status and output after the shell ran it (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.string({ unit: "grapheme-ascii", maxLength: 60 }),
        fc.integer({ min: 1, max: 99 }),
        (status, output, n) => {
          const command = `printf '%s' ${shellQuote(output)}; (exit ${status})`;
          const text = sh(markedCommand(command, n));
          expect(findMarker(text, n)).toEqual({ status, output });
          expect(findMarker(text, n + 1)).toBeUndefined();
        },
      ),
      { numRuns: 30 },
    );
  });

  it("waits for the marker: a partial output is not a result", () => {
    expect(findMarker("some output\n__HS_DONE_3__ 0", 3)).toBeUndefined();
    expect(findMarker("some output\n__HS_DONE_3__ 0\n", 3)).toEqual({ status: 0, output: "some output" });
  });
});
