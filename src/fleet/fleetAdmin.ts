// pH-admin's operations from the fleet: a watch with --fleet watches the admin bucket (every revision it still
// holds, in order) and applies each operation to this host's profiles of that program: those it holds when the
// operation arrives, and those it loads later from its store. Each profile takes each operation once: the bucket
// revision applied last per profile is kept in `<state>/fleet-admin.json`, so a restart does not apply it again,
// and a profile created after an operation is marked as past it instead of receiving it.

import { readFileSync, renameSync, writeFileSync } from "node:fs";
import type { ProfileEntry } from "../engine/profileEntry.js";
import type { HostMonitor } from "../engine/hostMonitor.js";
import { isHomeostatError } from "../errors.js";
import type { LiveProfile } from "../lifecycle/liveProfile.js";
import { type AdminOp, type AdminOpName, decodeAdminOp } from "./adminOp.js";
import { isProgramId } from "./fleetNames.js";
import type { FleetSession } from "./fleetLink.js";

const APPLY: Readonly<Record<AdminOpName, (p: LiveProfile) => void>> = {
  normalize: (p) => p.normalize(),
  tolerize: (p) => p.tolerize(),
  sensitize: (p) => p.sensitize(),
  reset: (p) => p.reset(),
};

/** Profiles remembered at most in the applied file (the oldest forgotten first). */
const MAX_REMEMBERED = 20_000;

interface Applied {
  rev: number;
  id: string;
}

export class FleetAdmin {
  private monitor: HostMonitor | undefined;
  /** Operations seen, per program, in revision order. */
  private readonly ops = new Map<string, { rev: number; op: AdminOp }[]>();
  /** Programs of the profiles held, by profile key (once identified). */
  private readonly programs = new Map<string, string>();
  private readonly applied: Map<string, Applied>;
  private stopWatch: (() => void) | undefined;
  /** Operations received from the bucket (this run), applied to a profile, refused as malformed. */
  received = 0;
  applies = 0;
  refused = 0;

  constructor(
    private readonly file: string,
    private readonly onMessage?: (line: string) => void,
  ) {
    this.applied = readApplied(file);
  }

  attach(monitor: HostMonitor): void {
    this.monitor = monitor;
  }

  /** Watches the admin bucket of this session (every revision it holds, then new ones). */
  up(session: FleetSession): void {
    const kv = session.admin;
    if (kv === undefined) return;
    let stopped = false;
    this.stopWatch = () => (stopped = true);
    void (async () => {
      const iter = await kv.watch({ include: "history" });
      this.stopWatch = () => iter.stop();
      if (stopped) iter.stop();
      for await (const e of iter) {
        if (e.operation !== "PUT" || !isProgramId(e.key)) continue;
        this.take(e.key, e.revision, e.value);
      }
    })().catch(() => {
      // The session ended: the next one watches again (operations applied are remembered).
    });
  }

  down(): void {
    this.stopWatch?.();
    this.stopWatch = undefined;
  }

  /** The program of the profile `key`, once identified. */
  programOf(key: string): string | undefined {
    return this.programs.get(key);
  }

  /** A profile's program is known: a stored one takes the operations it missed; a new one is past them all. */
  identified(entry: ProfileEntry, program: string): void {
    this.programs.set(entry.key, program);
    const ops = this.ops.get(program);
    if (ops === undefined || ops.length === 0) return;
    if (entry.storedVersion === 0) {
      const last = ops[ops.length - 1]!;
      this.remember(entry.key, { rev: last.rev, id: last.op.id });
      return;
    }
    for (const o of ops) this.apply(entry, o.rev, o.op);
  }

  private take(program: string, rev: number, value: Uint8Array): void {
    let op: AdminOp;
    try {
      op = decodeAdminOp(value, `fleet admin operation for ${program}`);
    } catch (err) {
      if (!isHomeostatError(err)) throw err;
      this.refused++;
      this.onMessage?.(`fleet: ${err.oneLine()}; ignored`);
      return;
    }
    this.received++;
    const ops = this.ops.get(program) ?? [];
    if (ops.some((o) => o.rev === rev)) return; // seen before this session's watch began again
    ops.push({ rev, op });
    if (ops.length > 16) ops.shift();
    this.ops.set(program, ops);
    for (const [key, p] of this.programs) {
      if (p !== program) continue;
      const entry = this.monitor?.profile(key);
      if (entry !== undefined) this.apply(entry, rev, op);
    }
  }

  private apply(entry: ProfileEntry, rev: number, op: AdminOp): void {
    const last = this.applied.get(entry.key);
    if (last !== undefined && (last.rev >= rev || last.id === op.id)) return;
    const before = entry.profile.state;
    APPLY[op.op](entry.profile);
    entry.dirty = true;
    this.applies++;
    this.remember(entry.key, { rev, id: op.id });
    this.onMessage?.(`fleet: ${op.op} applied to ${entry.exe.path} (${before} -> ${entry.profile.state})`);
  }

  private remember(key: string, a: Applied): void {
    this.applied.delete(key);
    this.applied.set(key, a);
    while (this.applied.size > MAX_REMEMBERED) this.applied.delete(this.applied.keys().next().value!);
    writeApplied(this.file, this.applied);
  }
}

function readApplied(file: string): Map<string, Applied> {
  try {
    const obj = JSON.parse(readFileSync(file, "utf8")) as Record<string, Applied>;
    const out = new Map<string, Applied>();
    for (const [k, v] of Object.entries(obj)) {
      if (typeof v?.rev === "number" && typeof v.id === "string") out.set(k, { rev: v.rev, id: v.id });
    }
    return out;
  } catch {
    return new Map();
  }
}

/** Written whole to a temporary file and renamed over the old one (a crash leaves one or the other). */
function writeApplied(file: string, applied: Map<string, Applied>): void {
  try {
    writeFileSync(`${file}.tmp`, JSON.stringify(Object.fromEntries(applied)), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  } catch {
    // A full disk: remembered in memory; the file catches up at the next operation.
  }
}
