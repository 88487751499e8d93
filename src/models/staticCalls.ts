// The `static` detector: a model of normal derived from a program's code, not learned from its traces (Wagner &
// Dean, "Intrusion Detection via Static Analysis", IEEE S&P 2001). The set model allows the system calls the code
// can make; the digraph model also allows only the ordered pairs (a, b) where b can follow a. A call outside the
// model is impossible for the binary, so a sound and complete model gives no false alarm: signal 1 per impossible
// call, 0 otherwise. `homeostat static` builds one from src/static's analysis; `train` is refused.
//
// The boundary: the execve that starts a program is made by the image before it (a shell, strace, runc), so a
// stream may begin with one of the model's entry calls (execve, execveat) even when the code cannot make it. That
// call does not start the digraph: the next call is checked against the set only, as any stream's first call is.
// The cost: a process the program forks whose first call is an exec passes too (its fork and the new program's
// calls are still checked); a stream has no way to tell the exec that started it from one its code made.
// After an impossible call the digraph cannot know where the program is, so it checks the next call against the set
// only too (one injected call is one alarm, not a cascade).

import { HomeostatError } from "../errors.js";
import type { Detector, DetectorFactory, DetectorOptions, DetectorState, SignalInfo } from "./detector.js";
import { checkMergeable, resolveOptions } from "./detectorOptions.js";
import { PayloadReader, PayloadWriter } from "./payload.js";

const PAYLOAD_VERSION = 1;
const KIND = "static";
/** Largest vocabulary of a digraph model: its pair matrix is ids^2 bits (2 MiB here; x86_64 has under 512 calls). */
export const MAX_DIGRAPH_IDS = 4096;
const MODES = ["set", "digraph"] as const;
export type StaticMode = (typeof MODES)[number];

export const STATIC_OPTIONS = {
  mode: { default: "set", help: "set (the calls the code can make) or digraph (also which call may follow which)" },
} as const;

/** What a static model was derived from: shown by `score` and `detect`, kept across merges. */
export interface StaticSource {
  /** The analysed executable (the interpreter, for a script). */
  program: string;
  /** The script given, when a #! line was followed; "" otherwise. */
  script: string;
  /** The executable's GNU build-id as hex; "" when it has none. */
  buildId: string;
  /** Whether every reachable system-call site was resolved and no dlopen was left unanalysed. */
  complete: boolean;
}

export interface StaticCallsInput {
  /** Vocabulary ids the model covers: ids at or beyond this are impossible calls. */
  vocabularySize: number;
  /** Ids of the calls the code can make. */
  calls: Iterable<number>;
  /** Ids allowed as a stream's first call only: the execve that started the program. */
  entry?: Iterable<number>;
  /** Digraph mode: ordered pairs [a, b] of ids (b may follow a). Ignored in set mode. */
  pairs?: Iterable<readonly [number, number]>;
  sources?: readonly StaticSource[];
}

/** Per-stream state: the previous call that the digraph continues from (-1: none), and the calls seen. */
export class StaticState implements DetectorState {
  prev = -1;
  seen = 0;

  reset(): void {
    this.prev = -1;
    this.seen = 0;
  }
}

export class StaticCalls implements Detector<StaticState> {
  readonly kind = KIND;
  readonly options: DetectorOptions;
  readonly signal: SignalInfo = { kind: "mismatch", anomalousAt: 1 };
  readonly mergeable = true;
  /** A static model is never trained: both counts stay 0 (profile headers carry them). */
  readonly trainedCalls = 0;
  readonly trainedTraces = 0;
  readonly mode: StaticMode;
  private ids = 0;
  /** Per id: bit 0 = in the set, bit 1 = an entry call. */
  private flags = new Uint8Array(0);
  /** Digraph: row a holds `words` 32-bit words, bit b set when b may follow a. */
  private follows = new Uint32Array(0);
  private words = 0;
  private sourceList: StaticSource[] = [];

  constructor(options: DetectorOptions) {
    this.options = Object.freeze({ ...options });
    const mode = options.mode;
    if (!(MODES as readonly unknown[]).includes(mode)) {
      throw new HomeostatError("E_USAGE", `option static.mode must be set or digraph, not ${JSON.stringify(mode)}`);
    }
    this.mode = mode as StaticMode;
  }

  /** Vocabulary ids covered. */
  get vocabularySize(): number {
    return this.ids;
  }

  /** Ids of the calls the code can make, ascending. */
  get calls(): number[] {
    return this.members(1);
  }

  /** Ids allowed only as a stream's first call, ascending. */
  get entryCalls(): number[] {
    return this.members(2);
  }

  /** Digraph pairs [a, b], ascending (none in set mode). */
  get pairs(): [number, number][] {
    const out: [number, number][] = [];
    for (let a = 0; a < this.ids && this.words > 0; a++) {
      for (let w = 0; w < this.words; w++) {
        let bits = this.follows[a * this.words + w]!;
        while (bits !== 0) {
          const low = bits & -bits;
          out.push([a, w * 32 + 31 - Math.clz32(low)]);
          bits ^= low;
        }
      }
    }
    return out;
  }

  get sources(): readonly StaticSource[] {
    return this.sourceList;
  }

  /** Whether every program the model was derived from had a complete analysis (false for an empty model). */
  get complete(): boolean {
    return this.sourceList.length > 0 && this.sourceList.every((s) => s.complete);
  }

  private members(bit: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.ids; i++) if ((this.flags[i]! & bit) !== 0) out.push(i);
    return out;
  }

  private follows_(a: number, b: number): boolean {
    return ((this.follows[a * this.words + (b >>> 5)]! >>> (b & 31)) & 1) === 1;
  }

  /** Replaces the model's contents (ids are checked: construction and payloads share this path). */
  private fill(input: StaticCallsInput, fail: (message: string) => HomeostatError): this {
    const n = input.vocabularySize;
    const max = this.mode === "digraph" ? MAX_DIGRAPH_IDS : 65_536;
    if (!Number.isInteger(n) || n < 0 || n > max)
      throw fail(`vocabulary size ${n} is not 0..${max} (${this.mode} mode)`);
    const check = (id: number, what: string): number => {
      if (!Number.isInteger(id) || id < 0 || id >= n) throw fail(`${what} id ${id} is outside the vocabulary of ${n}`);
      return id;
    };
    this.ids = n;
    this.flags = new Uint8Array(n);
    for (const id of input.calls) this.flags[check(id, "call")]! |= 1;
    for (const id of input.entry ?? []) this.flags[check(id, "entry call")]! |= 2;
    this.words = this.mode === "digraph" ? (n + 31) >>> 5 : 0;
    this.follows = new Uint32Array(this.words * n);
    if (this.mode === "digraph") {
      for (const [a, b] of input.pairs ?? []) {
        check(a, "pair");
        check(b, "pair");
        this.follows[a * this.words + (b >>> 5)]! |= 1 << (b & 31);
      }
    }
    this.sourceList = (input.sources ?? []).map((s) => ({ ...s }));
    return this;
  }

  /** A model of the given calls (and pairs, in digraph mode); ids are checked (E_MODEL). */
  load(input: StaticCallsInput): this {
    return this.fill(input, (m) => new HomeostatError("E_MODEL", `static model: ${m}`));
  }

  /** One line on what the model is of, for `score` and `detect`. */
  describe(): string {
    if (this.sourceList.length === 0) return "static model of no program (allows nothing)";
    const what = this.sourceList
      .map((s) => {
        const id = s.buildId === "" ? "no build-id" : `build-id ${s.buildId}`;
        const script = s.script === "" ? "" : ` for script ${s.script}`;
        return `${s.program}${script} (${id}, ${s.complete ? "complete" : "INCOMPLETE"})`;
      })
      .join(" + ");
    const size = `${this.calls.length} calls${this.mode === "digraph" ? `, ${this.pairs.length} pairs` : ""}`;
    return `static ${this.mode} model of ${what}: ${size}`;
  }

  train(_traces: readonly Uint16Array[]): void {
    throw new HomeostatError(
      "E_MODEL",
      "a static model is derived from the binary with `homeostat static`; it does not train",
    );
  }

  newState(): StaticState {
    return new StaticState();
  }

  step(state: StaticState, syscall: number): number {
    const flags = syscall < this.ids ? this.flags[syscall]! : 0;
    const first = state.seen === 0;
    state.seen++;
    if (first && (flags & 2) !== 0) return 0; // the exec that started the program: the digraph starts after it
    const prev = state.prev;
    let ok = (flags & 1) !== 0;
    if (ok && prev >= 0 && this.words > 0) ok = this.follows_(prev, syscall);
    state.prev = ok ? syscall : -1;
    return ok ? 0 : 1;
  }

  scoreTrace(trace: Uint16Array, out: Float64Array): void {
    if (out.length < trace.length) {
      throw new HomeostatError("E_MODEL", `score buffer holds ${out.length} values for a trace of ${trace.length}`);
    }
    const st = new StaticState();
    for (let i = 0; i < trace.length; i++) out[i] = this.step(st, trace[i]!);
  }

  /** The union of both models (sets, entry calls, pairs, sources): what analysing both programs together allows. */
  merge(other: Detector): void {
    checkMergeable(this, other);
    if (!(other instanceof StaticCalls))
      throw new HomeostatError("E_MODEL", `cannot merge a foreign ${other.kind} model`);
    const n = Math.max(this.ids, other.ids);
    const pairs = [...this.pairs, ...other.pairs];
    const seen = new Set(this.sourceList.map(sourceKey));
    const sources = [...this.sourceList, ...other.sourceList.filter((s) => !seen.has(sourceKey(s)))];
    this.load({
      vocabularySize: n,
      calls: [...this.calls, ...other.calls],
      entry: [...this.entryCalls, ...other.entryCalls],
      pairs,
      sources,
    });
  }

  // Payload: version u8, vocabulary size u32, then counted u16 lists of calls, entry calls and flattened pairs,
  // then the sources (program, script, build-id as counted UTF-8, complete as u8).
  serialize(): Uint8Array {
    const w = new PayloadWriter().u8(PAYLOAD_VERSION).u32(this.ids);
    const list = (ids: number[]): void => {
      w.u32(ids.length).u16s(Uint16Array.from(ids));
    };
    list(this.calls);
    list(this.entryCalls);
    list(this.pairs.flat());
    w.u32(this.sourceList.length);
    for (const s of this.sourceList) {
      for (const text of [s.program, s.script, s.buildId]) {
        const bytes = Buffer.from(text, "utf8");
        w.u32(bytes.length).raw(bytes);
      }
      w.u8(s.complete ? 1 : 0);
    }
    return w.finish();
  }

  /** Restores what `serialize` wrote into this fresh detector. */
  read(bytes: Uint8Array): this {
    const r = new PayloadReader(bytes, KIND);
    r.version(PAYLOAD_VERSION, 1);
    const vocabularySize = r.u32();
    const list = (what: string): number[] => {
      const count = r.u32();
      if (count * 2 > r.remaining) throw r.fail(`${what} count ${count} runs past the end`);
      const ids = Array.from(r.u16s(count));
      for (let i = 1; i < ids.length; i++) if (!(ids[i]! > ids[i - 1]!)) throw r.fail(`${what} are not ascending`);
      return ids;
    };
    const calls = list("calls");
    const entry = list("entry calls");
    const flat = r.u32();
    if (flat % 2 !== 0 || flat * 2 > r.remaining) throw r.fail(`pair list of ${flat} ids is malformed`);
    if (flat > 0 && this.mode !== "digraph") throw r.fail("a set model holds digraph pairs");
    const values = r.u16s(flat);
    const pairs: [number, number][] = [];
    let before = -1;
    for (let i = 0; i < flat; i += 2) {
      const key = values[i]! * 65_536 + values[i + 1]!;
      if (!(key > before)) throw r.fail("pairs are not ascending");
      before = key;
      pairs.push([values[i]!, values[i + 1]!]);
    }
    const sourceCount = r.u32();
    if (sourceCount * 13 > r.remaining) throw r.fail(`source count ${sourceCount} runs past the end`);
    const sources: StaticSource[] = [];
    for (let i = 0; i < sourceCount; i++) {
      const [program, script, buildId] = [0, 1, 2].map(() => {
        const length = r.u32();
        return Buffer.from(r.raw(length)).toString("utf8");
      }) as [string, string, string];
      const complete = r.u8();
      if (complete > 1) throw r.fail(`completeness flag ${complete} is not 0 or 1`);
      sources.push({ program, script, buildId, complete: complete === 1 });
    }
    r.end();
    return this.fill({ vocabularySize, calls, entry, pairs, sources }, (m) => r.fail(m));
  }

  memoryBytes(): number {
    return this.flags.byteLength + this.follows.byteLength;
  }
}

function sourceKey(s: StaticSource): string {
  return JSON.stringify([s.program, s.script, s.buildId, s.complete]);
}

export interface StaticCallsFactory extends DetectorFactory<StaticCalls> {
  /** A static model of the given calls: what `homeostat static` builds from an analysis, and tests from traces. */
  fromCalls(input: StaticCallsInput, options?: Partial<Record<string, number | string | boolean>>): StaticCalls;
}

export const staticCallsFactory: StaticCallsFactory = {
  kind: KIND,
  description:
    "static (Wagner & Dean 2001): calls the binary's code cannot make are impossible; built by `homeostat static`, not trained",
  optionHelp: STATIC_OPTIONS,
  create(options) {
    return new StaticCalls(resolveOptions(KIND, STATIC_OPTIONS, options));
  },
  deserialize(options, bytes) {
    return new StaticCalls(resolveOptions(KIND, STATIC_OPTIONS, options)).read(bytes);
  },
  fromCalls(input, options) {
    return new StaticCalls(resolveOptions(KIND, STATIC_OPTIONS, options)).load(input);
  },
};
