import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LocalityFrame } from "./localityFrame.js";

describe("LocalityFrame", () => {
  it("counts anomalies over the last F = 3 calls (worked by hand)", () => {
    // Anomaly pattern and, call by call, the anomalies among the (up to) three calls ending there:
    // 1 | 1,0 | 1,0,1 | 0,1,1 | 1,1,0 | 1,0,0 | 0,0,1 | 0,1,1 | 1,1,1 | 1,1,0
    const pattern = [1, 0, 1, 1, 0, 0, 1, 1, 1, 0];
    const expected = [1, 1, 2, 2, 2, 1, 1, 2, 3, 2];
    const frame = new LocalityFrame(3);
    expect(pattern.map((b) => frame.push(b === 1))).toEqual(expected);
    expect(frame.count).toBe(2);
  });

  it("defaults to Hofmeyr's 20-call frame", () => {
    const frame = new LocalityFrame();
    expect(frame.size).toBe(20);
    for (let i = 0; i < 25; i++) frame.push(true);
    expect(frame.count).toBe(20);
  });

  it("reset empties the frame", () => {
    const frame = new LocalityFrame(4);
    frame.push(true);
    frame.push(true);
    frame.reset();
    expect(frame.count).toBe(0);
    expect(frame.push(false)).toBe(0);
    expect(frame.push(true)).toBe(1);
  });

  it("rejects a frame that is not a positive integer", () => {
    expect(() => new LocalityFrame(0)).toThrow(/positive integer/);
    expect(() => new LocalityFrame(2.5)).toThrow(/positive integer/);
  });

  it("equals a direct count over the last F bits (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(fc.boolean(), { maxLength: 200 }), (size, bits) => {
        const frame = new LocalityFrame(size);
        bits.forEach((b, i) => {
          const direct = bits.slice(Math.max(0, i - size + 1), i + 1).filter((x) => x).length;
          expect(frame.push(b)).toBe(direct);
        });
      }),
    );
  });
});
