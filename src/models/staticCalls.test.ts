import { describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import type { StaticModel } from "../static/staticModel.js";
import { decodeProfile, encodeProfile } from "./profile.js";
import { createDetector, formatModelSpec, parseModelSpec } from "./registry.js";
import { type StaticCalls, type StaticCallsInput, staticCallsFactory } from "./staticCalls.js";
import { staticProfile } from "../static/staticProfile.js";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof HomeostatError ? err.code : "not a HomeostatError";
  }
  return undefined;
}

function score(d: StaticCalls, calls: number[]): number[] {
  const out = new Float64Array(calls.length);
  d.scoreTrace(Uint16Array.from(calls), out);
  return Array.from(out);
}

// Ids: 0 read, 1 write, 2 close, 3 exit_group, 4 execve (entry only), 5 socket (in the vocabulary, not the set).
const INPUT: StaticCallsInput = {
  vocabularySize: 6,
  calls: [0, 1, 2, 3],
  entry: [4],
  pairs: [
    [0, 1],
    [1, 0],
    [1, 2],
    [2, 3],
  ],
  sources: [{ program: "/usr/bin/toy", script: "", buildId: "abc123", complete: true }],
};

describe("static model, set mode (Wagner & Dean's set)", () => {
  const d = staticCallsFactory.fromCalls(INPUT);

  it("is a mismatch detector that flags exactly the calls outside the set", () => {
    expect(d.kind).toBe("static");
    expect(d.options).toEqual({ mode: "set" });
    expect(d.signal).toEqual({ kind: "mismatch", anomalousAt: 1 });
    expect(d.mergeable).toBe(true);
    expect(score(d, [0, 1, 0, 2, 3])).toEqual([0, 0, 0, 0, 0]);
    // Order does not matter to the set.
    expect(score(d, [3, 2, 0, 0, 1])).toEqual([0, 0, 0, 0, 0]);
    expect(score(d, [0, 5, 1])).toEqual([0, 1, 0]);
  });

  it("treats ids beyond the vocabulary as impossible", () => {
    expect(score(d, [0, 6, 65535, 1])).toEqual([0, 1, 1, 0]);
  });

  it("allows an entry call only as a stream's first call", () => {
    expect(score(d, [4, 0, 1])).toEqual([0, 0, 0]);
    expect(score(d, [0, 4, 1])).toEqual([0, 1, 0]);
    expect(score(d, [4, 4])).toEqual([0, 1]);
    const st = d.newState();
    expect(d.step(st, 0)).toBe(0);
    st.reset();
    expect(d.step(st, 4)).toBe(0);
  });

  it("lists its calls and entry calls, and says what it is of", () => {
    expect(d.calls).toEqual([0, 1, 2, 3]);
    expect(d.entryCalls).toEqual([4]);
    expect(d.pairs).toEqual([]);
    expect(d.complete).toBe(true);
    expect(d.describe()).toBe("static set model of /usr/bin/toy (build-id abc123, complete): 4 calls");
    expect(staticCallsFactory.create().describe()).toMatch(/no program/);
    expect(staticCallsFactory.create().complete).toBe(false);
  });

  it("refuses to train, with a message that says how a static model is made", () => {
    let caught: unknown;
    try {
      d.train([Uint16Array.of(0, 1)]);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(HomeostatError);
    expect((caught as HomeostatError).code).toBe("E_MODEL");
    expect((caught as HomeostatError).message).toMatch(/homeostat static.*does not train/);
  });
});

describe("static model, digraph mode (Wagner & Dean's digraph)", () => {
  const d = staticCallsFactory.fromCalls(INPUT, { mode: "digraph" });

  it("allows a call only after a call it may follow; the first call checks only the set", () => {
    expect(score(d, [0, 1, 0, 1, 2, 3])).toEqual([0, 0, 0, 0, 0, 0]);
    expect(score(d, [2, 3])).toEqual([0, 0]);
    // 0 -> 2 is no pair, though both are in the set.
    expect(score(d, [0, 2, 3])).toEqual([0, 1, 0]);
  });

  it("checks the call after an impossible one against the set only (one alarm, not a cascade)", () => {
    expect(score(d, [0, 5, 2, 3])).toEqual([0, 1, 0, 0]);
    expect(score(d, [0, 5, 5, 1])).toEqual([0, 1, 1, 0]);
  });

  it("starts the digraph after the entry exec", () => {
    expect(score(d, [4, 2, 3])).toEqual([0, 0, 0]);
    expect(score(d, [4, 2, 0])).toEqual([0, 0, 1]);
  });

  it("lists its pairs in order and counts them in its description", () => {
    expect(d.pairs).toEqual([
      [0, 1],
      [1, 0],
      [1, 2],
      [2, 3],
    ]);
    expect(d.describe()).toMatch(/^static digraph model of .*: 4 calls, 4 pairs$/);
  });

  it("ignores pairs given in set mode", () => {
    expect(staticCallsFactory.fromCalls(INPUT).pairs).toEqual([]);
  });
});

describe("static model: merge, payload, options", () => {
  it("merges to the union of sets, entry calls, pairs and sources", () => {
    const a = staticCallsFactory.fromCalls(
      { ...INPUT, vocabularySize: 4, calls: [0], entry: [], pairs: [[0, 0]] },
      { mode: "digraph" },
    );
    const b = staticCallsFactory.fromCalls(
      {
        vocabularySize: 8,
        calls: [1, 7],
        entry: [6],
        pairs: [[1, 7]],
        sources: [{ program: "/usr/bin/other", script: "/usr/bin/s.sh", buildId: "", complete: false }],
      },
      { mode: "digraph" },
    );
    a.merge(b);
    expect(a.vocabularySize).toBe(8);
    expect(a.calls).toEqual([0, 1, 7]);
    expect(a.entryCalls).toEqual([6]);
    expect(a.pairs).toEqual([
      [0, 0],
      [1, 7],
    ]);
    expect(a.sources.map((s) => s.program)).toEqual(["/usr/bin/toy", "/usr/bin/other"]);
    expect(a.complete).toBe(false);
    expect(a.describe()).toMatch(/\/usr\/bin\/other for script \/usr\/bin\/s.sh \(no build-id, INCOMPLETE\)/);
    // The same source twice is kept once.
    a.merge(b);
    expect(a.sources.length).toBe(2);
    expect(codeOf(() => a.merge(staticCallsFactory.create()))).toBe("E_MODEL");
    expect(codeOf(() => a.merge(createDetector("stide")))).toBe("E_MODEL");
  });

  it("round-trips its payload byte for byte, sources included", () => {
    for (const mode of ["set", "digraph"]) {
      const d = staticCallsFactory.fromCalls(INPUT, { mode });
      const bytes = d.serialize();
      const back = staticCallsFactory.deserialize(d.options, bytes);
      expect(Buffer.from(back.serialize()).equals(Buffer.from(bytes))).toBe(true);
      expect(back.sources).toEqual(INPUT.sources);
      expect(back.describe()).toBe(d.describe());
    }
  });

  it("rejects corrupt payloads with E_PARSE", () => {
    const good = staticCallsFactory.fromCalls(INPUT, { mode: "digraph" }).serialize();
    const patched = (at: number, value: number): Uint8Array => {
      const b = good.slice();
      b[at] = value;
      return b;
    };
    const view = new DataView(good.buffer, good.byteOffset);
    expect(view.getUint32(1, true)).toBe(6);
    const bad: Uint8Array[] = [
      patched(1, 2), // a vocabulary smaller than the ids it holds
      patched(4, 1), // a digraph vocabulary too large (16 M ids)
      patched(9, 2), // calls 2, 1, 2, 3: not ascending
      good.subarray(0, good.length - 1),
      Uint8Array.from([...good, 0]),
    ];
    for (const bytes of bad)
      expect(codeOf(() => staticCallsFactory.deserialize({ mode: "digraph" }, bytes))).toBe("E_PARSE");
    expect(codeOf(() => staticCallsFactory.deserialize({ mode: "digraph" }, patched(0, 9)))).toBe("E_VERSION");
    // A set model's payload holds no pairs.
    expect(codeOf(() => staticCallsFactory.deserialize({ mode: "set" }, good))).toBe("E_PARSE");
  });

  it("takes mode set or digraph only, through specs too", () => {
    expect(parseModelSpec("static")).toEqual({ kind: "static", options: { mode: "set" } });
    expect(parseModelSpec("static:mode=digraph").options.mode).toBe("digraph");
    expect(formatModelSpec("static", { mode: "digraph" })).toBe("static:mode=digraph");
    expect(codeOf(() => staticCallsFactory.create({ mode: "tree" }))).toBe("E_USAGE");
    expect(codeOf(() => staticCallsFactory.fromCalls({ vocabularySize: 2, calls: [2] }))).toBe("E_MODEL");
  });
});

describe("staticProfile", () => {
  const model: StaticModel = {
    program: "/usr/bin/toy",
    objects: [
      {
        path: "/usr/bin/toy",
        role: "main",
        buildId: "feed",
        functions: 1,
        instructions: 9,
        syscallSites: 2,
        cached: false,
      },
    ],
    syscalls: [0, 1, 15, 231],
    names: ["read", "write", "rt_sigreturn", "exit_group"],
    alwaysAllowed: [{ name: "rt_sigreturn", why: "signals" }],
    pairs: [
      [0, 1],
      [1, 231],
    ],
    branchingFactor: 0.5,
    complete: false,
    unresolved: [{ object: "/usr/bin/toy", address: 0x1234, reason: "number not constant" }],
    dlopen: [],
    stats: {
      functions: 1,
      reachableFunctions: 1,
      instructions: 9,
      syscallSites: 2,
      reachableSyscallSites: 2,
      addressTakenFunctions: 0,
      milliseconds: 1,
    },
  };

  it("names the set then the entry calls, and keeps program, build-id and completeness through a profile file", () => {
    const { detector, vocabulary } = staticProfile(model, "digraph");
    expect(vocabulary.toArray()).toEqual(["read", "write", "rt_sigreturn", "exit_group", "execve", "execveat"]);
    expect(detector.calls).toEqual([0, 1, 2, 3]);
    expect(detector.entryCalls).toEqual([4, 5]);
    expect(detector.pairs).toEqual([
      [0, 1],
      [1, 3],
    ]);
    const back = decodeProfile(encodeProfile({ detector, vocabulary }), "toy.profile");
    expect(back.header.kind).toBe("static");
    expect(back.header.options).toEqual({ mode: "digraph" });
    expect(back.detector.describe?.()).toBe(
      "static digraph model of /usr/bin/toy (build-id feed, INCOMPLETE): 4 calls, 2 pairs",
    );
  });

  it("needs the pairs for a digraph profile", () => {
    expect(staticProfile({ ...model, pairs: undefined }, "set").detector.mode).toBe("set");
    const { pairs: _, ...noPairs } = model;
    expect(codeOf(() => staticProfile(noPairs, "digraph"))).toBe("E_MODEL");
  });
});
