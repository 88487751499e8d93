import { crc32 } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import type { Detector } from "./detector.js";
import { decodeProfile, encodeProfile, homeostatVersion, PROFILE_VERSION } from "./profile.js";
import { createDetector, DETECTORS } from "./registry.js";
import { staticFromTraces } from "./testing/staticFromTraces.js";
import { firstDifference, SyntheticProgram, scoreAll } from "./testing/traces.js";

const program = new SyntheticProgram(21, 20);
const training = program.traces(1, 20, 10, 200);
const tests = program.traces(2, 10, 0, 200);
const vocab = new Vocabulary(Array.from({ length: 20 }, (_, i) => `call${i}`));
const CREATED = new Date("2024-05-01T12:00:00.000Z");

function trained(kind: string, options = {}): Detector {
  // A static model is derived from a binary, never trained: it stands for the same calls instead.
  if (kind === "static") return staticFromTraces(training, options);
  const d = createDetector(kind, options);
  d.train(training);
  return d;
}

/** Assembles profile bytes by the documented layout (independently of encodeProfile). */
function assemble(version: number, header: unknown, payload: Uint8Array): Uint8Array {
  const head = Buffer.from(JSON.stringify(header), "utf8");
  const out = Buffer.alloc(8 + 2 + 4 + head.length + 4 + payload.length + 4);
  out.write("HSTPROF\0", 0, "latin1");
  out.writeUInt16LE(version, 8);
  out.writeUInt32LE(head.length, 10);
  head.copy(out, 14);
  out.writeUInt32LE(payload.length, 14 + head.length);
  out.set(payload, 18 + head.length);
  out.writeUInt32LE(crc32(out.subarray(0, out.length - 4)), out.length - 4);
  return new Uint8Array(out);
}

function errorOf(fn: () => unknown): HomeostatError {
  try {
    fn();
  } catch (err) {
    if (err instanceof HomeostatError) return err;
    throw err;
  }
  throw new Error("expected a HomeostatError");
}

describe("profile round trip", () => {
  for (const kind of Object.keys(DETECTORS)) {
    it(`restores a ${kind} detector and its vocabulary`, () => {
      const d = trained(kind);
      const bytes = encodeProfile({ detector: d, vocabulary: vocab, created: CREATED });
      expect(Buffer.from(bytes.subarray(0, 8)).toString("latin1")).toBe("HSTPROF\0");
      expect(new DataView(bytes.buffer).getUint16(8, true)).toBe(PROFILE_VERSION);
      const back = decodeProfile(bytes, "x.profile");
      expect(back.detector.kind).toBe(kind);
      expect(back.detector.options).toEqual(d.options);
      expect(back.vocabulary.toArray()).toEqual(vocab.toArray());
      expect(back.header.trainedCalls).toBe(d.trainedCalls);
      expect(back.header.trainedTraces).toBe(kind === "static" ? 0 : training.length);
      expect(back.header.created).toBe(CREATED.toISOString());
      expect(back.header.homeostatVersion).toBe(homeostatVersion());
      expect(firstDifference(scoreAll(back.detector, tests), scoreAll(d, tests))).toBeUndefined();
      // Same inputs, same bytes.
      expect(
        Buffer.from(encodeProfile({ detector: back.detector, vocabulary: back.vocabulary, created: CREATED })),
      ).toEqual(Buffer.from(bytes));
    });
  }

  it("records the package version", () => {
    expect(homeostatVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe("profile corruption", () => {
  const d = trained("stide", { k: 3 });
  const small = encodeProfile({ detector: d, vocabulary: vocab, created: CREATED });

  it("detects every single-byte change of a whole profile, naming the file", () => {
    for (let i = 0; i < small.length; i++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const bad = small.slice();
        bad[i] = bad[i]! ^ flip;
        const err = errorOf(() => decodeProfile(bad, "p.prof"));
        expect(err.location.file).toBe("p.prof");
        expect(err.oneLine().startsWith("p.prof: ")).toBe(true);
        expect(err.code).toBe(i < 8 ? "E_FORMAT" : "E_CHECKSUM"); // the version field too: it is under the CRC
      }
    }
  });

  it("detects any single-byte corruption (property)", () => {
    const big = encodeProfile({ detector: trained("tstide"), vocabulary: vocab, created: CREATED });
    fc.assert(
      fc.property(fc.nat({ max: big.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, flip) => {
        const bad = big.slice();
        bad[at] = bad[at]! ^ flip;
        const err = errorOf(() => decodeProfile(bad, "big.prof"));
        expect(["E_FORMAT", "E_CHECKSUM"]).toContain(err.code);
        expect(err.location.file).toBe("big.prof");
      }),
      { numRuns: 500, seed: 17 },
    );
  });

  it("detects truncation at every length", () => {
    for (let n = 0; n < small.length; n++) {
      const err = errorOf(() => decodeProfile(small.subarray(0, n), "t.prof"));
      expect(err.code).toBe("E_CHECKSUM");
      expect(err.location.file).toBe("t.prof");
    }
  });

  it("reads a bit flip in the version field as corruption, not as a newer format", () => {
    const bad = small.slice();
    bad[9] = bad[9]! ^ 0x10; // version 1 -> 4097
    const err = errorOf(() => decodeProfile(bad, "flip.prof"));
    expect(err.code).toBe("E_CHECKSUM");
    expect(err.oneLine()).toMatch(
      /^flip\.prof: profile checksum mismatch .*the file is corrupt or truncated \(its version field reads 4097\)$/,
    );
  });

  it("reports an unknown format version as E_VERSION, even with a valid checksum", () => {
    const header = JSON.parse(
      Buffer.from(small).toString("utf8", 14, 14 + new DataView(small.buffer).getUint32(10, true)),
    );
    const bytes = assemble(PROFILE_VERSION + 1, header, d.serialize());
    const err = errorOf(() => decodeProfile(bytes, "new.prof"));
    expect(err.code).toBe("E_VERSION");
    expect(err.message).toMatch(/version 2/);
    expect(err.location.file).toBe("new.prof");
  });

  it("reports an unknown model kind as E_MODEL", () => {
    const header = {
      format: "homeostat-profile",
      kind: "markov9000",
      options: {},
      vocabulary: ["read"],
      trainedCalls: 0,
      trainedTraces: 0,
      created: CREATED.toISOString(),
      homeostatVersion: "0.0.0",
    };
    const err = errorOf(() => decodeProfile(assemble(PROFILE_VERSION, header, new Uint8Array(4)), "m.prof"));
    expect(err.code).toBe("E_MODEL");
    expect(err.message).toMatch(/markov9000/);
    expect(err.location.file).toBe("m.prof");
  });

  it("reports a well-checksummed but inconsistent payload as E_PARSE, naming the file", () => {
    const header = {
      format: "homeostat-profile",
      kind: "stide",
      options: { k: 4 },
      vocabulary: ["read"],
      trainedCalls: d.trainedCalls,
      trainedTraces: d.trainedTraces,
      created: CREATED.toISOString(),
      homeostatVersion: "0.0.0",
    };
    // A k=3 payload under k=4 options.
    const err = errorOf(() => decodeProfile(assemble(PROFILE_VERSION, header, d.serialize()), "k.prof"));
    expect(err.code).toBe("E_PARSE");
    expect(err.location.file).toBe("k.prof");
    // A header that is not the profile header.
    const err2 = errorOf(() => decodeProfile(assemble(PROFILE_VERSION, { kind: "stide" }, d.serialize()), "h.prof"));
    expect(err2.code).toBe("E_PARSE");
    expect(err2.location.file).toBe("h.prof");
  });

  it("rejects a file that is not a profile", () => {
    const err = errorOf(() => decodeProfile(new TextEncoder().encode("open read mmap\n"), "trace.txt"));
    expect(err.code).toBe("E_FORMAT");
    expect(err.location.file).toBe("trace.txt");
  });
});
