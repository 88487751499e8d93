// The one event model every parser produces (strace, UNM, ADFA-LD, LID-DS, homeostat's binary format), in the
// spirit of LID-DS's pipeline and Falco's I/O-free engine: parsers push events into a sink, consumers (statistics,
// trace building, conversion, live scoring) are sinks. Per-call events are plain numbers passed as arguments, so
// the hot path allocates nothing; rare events (exec, signals, exits) carry small objects.

/** How a source is labelled by its dataset layout. */
export type Label = "normal" | "attack";

/** Metadata of one input source (a file, or an entry in an archive). */
export interface SourceInfo {
  /** Display path: a file path, or `archive.tar.gz:member/path` for an archive member. */
  path: string;
  /** The parser's format name. */
  format: string;
  label?: Label;
  /** Dataset split: "training", "validation", "test" (and for ADFA-LD "attack"). */
  split?: string;
  /** Attack type from the dataset's layout (ADFA-LD's folder name without `_n`; LID-DS's scenario). */
  attackType?: string;
  /** Attack instance (ADFA-LD's folder, e.g. `Hydra_FTP_3`; LID-DS's recording name). */
  attackInstance?: string;
  /** Seconds since the epoch at which the attack began (LID-DS metadata), when known. */
  attackTime?: number;
  /** Free-form recording metadata a layout wants to keep (e.g. LID-DS's .json fields). */
  meta?: Record<string, unknown>;
}

export type NoteKind =
  | "exec" // the stream began executing a new program (detail = program path)
  | "signal" // a signal was delivered (detail = signal name)
  | "exit" // the stream exited (code = exit status)
  | "killed" // the stream was killed by a signal (detail = signal name)
  | "comm" // the stream's process name is known (detail = name), e.g. from LID-DS or eBPF
  | "lost"; // the capture lost events (code = how many)

export interface StreamNote {
  kind: NoteKind;
  /** Seconds since the epoch (or since the capture began), NaN when unknown. */
  time: number;
  detail?: string;
  code?: number;
}

/**
 * Receives a parsed source. `beginSource`/`endSource` bracket each input; `call` is the hot path.
 *
 * `stream` identifies a thread of control within the source: the pid or tid where the format has one, otherwise 0.
 * `syscall` is a vocabulary id. `time` is seconds (epoch or relative, as the input has it) or NaN; `ret` is the
 * return value or NaN. `args` is the raw argument text, only when the parser was asked to keep arguments.
 */
export interface EventSink {
  beginSource(source: SourceInfo): void;
  call(stream: number, syscall: number, time: number, ret: number, args: string | undefined): void;
  note(stream: number, note: StreamNote): void;
  endSource(): void;
}

/** A sink that ignores everything; a base to extend when only some events matter. */
export class NullSink implements EventSink {
  beginSource(_source: SourceInfo): void {}
  call(_stream: number, _syscall: number, _time: number, _ret: number, _args: string | undefined): void {}
  note(_stream: number, _note: StreamNote): void {}
  endSource(): void {}
}

/** Forwards every event to several sinks. */
export class TeeSink implements EventSink {
  constructor(private readonly sinks: readonly EventSink[]) {}
  beginSource(source: SourceInfo): void {
    for (const s of this.sinks) s.beginSource(source);
  }
  call(stream: number, syscall: number, time: number, ret: number, args: string | undefined): void {
    for (const s of this.sinks) s.call(stream, syscall, time, ret, args);
  }
  note(stream: number, note: StreamNote): void {
    for (const s of this.sinks) s.note(stream, note);
  }
  endSource(): void {
    for (const s of this.sinks) s.endSource();
  }
}
