// Builds an object's summary (objectSummary.ts): decode its code, find its functions, build each function's
// control-flow graph, resolve the number at every `syscall` site by backward value analysis, and collect calls,
// address-taken functions and the order of events. Everything here reads one object only.

import { buildCfg, type FunctionCfg, type NoReturn } from "./controlFlow.js";
import { noReturnFunctions, NORETURN_IMPORTS } from "./noReturn.js";
import type { ElfFile } from "./elfFile.js";
import { buildFunctionMap, functionAt } from "./functionMap.js";
import { eventGraph } from "./eventGraph.js";
import type { ObjectSummary } from "./objectSummary.js";
import { type FunctionRecord, type Ref, SummaryBuilder, type SyscallSite } from "./summaryBuilder.js";
import { RAX, registerValuesBefore } from "./registerValue.js";
import { loaderModeEdges } from "./loaderMode.js";
import { buildRegions } from "./dataRegions.js";
import { slotTargets, type SlotTarget } from "./relocationSlots.js";
import { type ObjectCode, refOfSlot } from "./objectCode.js";
import { wrapperArguments } from "./wrapperArguments.js";
import { type DecodedCode, decodeRanges, Flow } from "./x86Decoder.js";

export { memoryCallRefs, type ObjectCode } from "./objectCode.js";

const SHF_EXECINSTR = 4;
const SHT_PROGBITS = 1;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;

/** An object's code, decoded, with its function map: what both the summary and later argument queries read. */
export function decodeObject(elf: ElfFile, isInterpreter: boolean): ObjectCode {
  const code = decodeRanges(executableRanges(elf), elf.kind === "exec");
  const slots = slotTargets(elf);
  const map = buildFunctionMap(code, boundaryHints(elf, slots));
  const dead = isInterpreter ? loaderModeEdges(elf, code) : new Map<number, number>();
  const never = noReturnFunctions(code, map, slots, dead);
  const noReturn: NoReturn = {
    call: (target) => {
      const f = functionAt(map, target);
      return f >= 0 && never[f] === 1;
    },
    slot: (slot) => {
      const t = slots.get(slot);
      return t?.symbol !== undefined && NORETURN_IMPORTS.has(t.symbol);
    },
  };
  const regions = buildRegions(elf, code, map, slots, codeHeldSlots(code, slots));
  return { elf, code, map, slots, dead, noReturn, regions };
}

function executableRanges(elf: ElfFile): { vaddr: number; bytes: Uint8Array }[] {
  const sections = elf.sections.filter(
    (s) => (s.flags & SHF_EXECINSTR) !== 0 && s.type === SHT_PROGBITS && s.size > 0 && s.addr > 0,
  );
  if (sections.length === 0) return elf.codeRanges();
  const out: { vaddr: number; bytes: Uint8Array }[] = [];
  for (const s of sections) {
    const bytes = elf.read(s.addr, s.size);
    if (bytes !== undefined) out.push({ vaddr: s.addr, bytes });
  }
  return out;
}

function boundaryHints(elf: ElfFile, slots: Map<number, SlotTarget>) {
  const ranges: { start: number; end: number }[] = [...elf.functionRanges];
  const starts: number[] = [elf.entry, ...elf.initArray, ...elf.finiArray, ...elf.preinitArray];
  if (elf.init !== undefined) starts.push(elf.init);
  if (elf.fini !== undefined) starts.push(elf.fini);
  const names = new Map<number, string>();
  for (const sym of [...elf.symbols, ...elf.dynamicSymbols]) {
    if (!sym.defined || (sym.type !== STT_FUNC && sym.type !== STT_GNU_IFUNC) || !elf.isCode(sym.value)) continue;
    if (sym.size > 0) ranges.push({ start: sym.value, end: sym.value + sym.size });
    else starts.push(sym.value);
    if (!names.has(sym.value) && sym.name !== "") names.set(sym.value, sym.name);
  }
  for (const t of slots.values()) if (t.local !== undefined && elf.isCode(t.local)) starts.push(t.local);
  return { ranges, starts: starts.filter((s) => s !== 0 && elf.isCode(s)), names };
}

/** Summarises a decoded object. */
export function summarizeObject(obj: ObjectCode): ObjectSummary {
  const { elf, code, map } = obj;
  const builder = new SummaryBuilder();
  for (let f = 0; f < map.count; f++) builder.addFunction(summarizeFunction(obj, f));
  const fnAt = (ip: number): number => functionAt(map, ip);
  const roots = [elf.entry, elf.init, elf.fini, ...elf.initArray, ...elf.finiArray, ...elf.preinitArray]
    .filter((a): a is number => a !== undefined && a !== 0)
    .map(fnAt)
    .filter((f) => f >= 0);
  const ifuncResolvers = new Set<number>();
  const exports = new Map<string, number>();
  for (const sym of elf.dynamicSymbols) {
    if (!sym.defined || sym.name === "" || (sym.type !== STT_FUNC && sym.type !== STT_GNU_IFUNC)) continue;
    const f = fnAt(sym.value);
    if (f < 0) continue;
    if (!exports.has(sym.name)) exports.set(sym.name, f);
    if (sym.type === STT_GNU_IFUNC) ifuncResolvers.add(f);
  }
  for (const t of obj.slots.values()) {
    if (t.ifunc && t.local !== undefined) {
      const f = fnAt(t.local);
      if (f >= 0) {
        ifuncResolvers.add(f);
        roots.push(f);
      }
    }
  }
  const summary = builder.finish({
    ...(elf.buildId === undefined ? {} : { buildId: elf.buildId }),
    roots: [...new Set(roots)],
    regions: obj.regions.regions,
    dataExports: Object.entries(obj.regions.exports),
    exports: [...exports],
    ifuncResolvers: [...ifuncResolvers],
    instructions: code.count,
  });
  summary.arguments = wrapperArguments(obj, summary);
  return summary;
}

/** Fixed slots (GOT entries, RELRO pointers) that instructions read directly: that code's reference, not data's. */
function codeHeldSlots(code: DecodedCode, slots: ReadonlyMap<number, SlotTarget>): Set<number> {
  const held = new Set<number>();
  for (let i = 0; i < code.count; i++) {
    const m = code.memory[i]!;
    if (!Number.isNaN(m) && code.isLea[i] === 0 && slots.get(m)?.writable === false) held.add(m);
  }
  return held;
}

function summarizeFunction(obj: ObjectCode, f: number): FunctionRecord {
  const { code, map } = obj;
  const read = (ip: number, len: number): Uint8Array | undefined => obj.elf.read(ip, len);
  const cfg = buildCfg(code, map, f, read, obj.dead, obj.noReturn);
  const sites: SyscallSite[] = [];
  const taken = new Set<Ref>();
  const data = new Set<number>();
  const dataSymbols = new Set<string>();
  for (let i = 0; i < cfg.size; i++) {
    if (cfg.reachable[i] === 0) continue;
    const g = cfg.base + i;
    if (code.flow[g] === Flow.Syscall) {
      const v = registerValuesBefore(code, cfg, read, i, RAX);
      sites.push({
        address: code.ip[g]!,
        numbers: [...v.constants].filter((n) => n >= 0 && n < 1024).sort((a, b) => a - b),
        param: v.params.size > 0 ? Math.min(...v.params) : -1,
        unknown: v.unknown || [...v.constants].some((n) => n < 0 || n >= 1024),
        fromMemory: v.fromMemory,
      });
    }
    collectTaken(obj, g, taken);
    collectData(obj, g, data, dataSymbols);
  }
  const graph = eventGraph(obj, cfg);
  const name = map.name[f];
  return {
    start: map.start[f]!,
    end: map.end[f]!,
    ...(name === undefined ? {} : { name }),
    sites,
    events: graph.events,
    entryNext: graph.entryNext,
    entryExit: graph.entryExit,
    taken: [...taken],
    data: [...data],
    dataSymbols: [...dataSymbols],
  };
}

/** Data the instruction at g refers to: a region of this object, or a data symbol through the GOT. */
function collectData(obj: ObjectCode, g: number, data: Set<number>, symbols: Set<string>): void {
  const m = obj.code.memory[g]!;
  const imm = obj.code.immediate[g]!;
  if (!Number.isNaN(m)) collectDataAt(obj, g, m, data, symbols);
  if (!Number.isNaN(imm)) collectDataAt(obj, g, imm, data, symbols);
}

function collectDataAt(obj: ObjectCode, g: number, a: number, data: Set<number>, symbols: Set<string>): void {
  const sym = obj.regions.dataSymbolOfSlot(a);
  if (sym !== undefined) symbols.add(sym);
  // Loading a pointer from a relocated slot is that code taking the pointer (collectTaken); an address computed
  // into data (a table's start may itself be a slot) makes the region reachable.
  else if (obj.code.isLea[g] === 1 || !obj.slots.has(a)) for (const r of obj.regions.regionsOf(a)) data.add(r);
}

/** Address-taking at instruction g: lea of code, a GOT slot read (not called), a code address as an immediate. */
function collectTaken(obj: ObjectCode, g: number, taken: Set<Ref>): void {
  const { code, map } = obj;
  const flow = code.flow[g]!;
  const m = code.memory[g]!;
  if (!Number.isNaN(m)) {
    if (code.isLea[g] === 1) {
      if (obj.elf.isCode(m)) {
        const f = functionAt(map, m);
        if (f >= 0) taken.add(f);
      }
    } else if (flow !== Flow.CallIndirect && flow !== Flow.JmpIndirect) {
      const t = obj.slots.get(m);
      if (t !== undefined) {
        const r = refOfSlot(map, t);
        if (r !== undefined) taken.add(r);
      }
    }
  }
  const imm = code.immediate[g]!;
  if (!Number.isNaN(imm) && obj.elf.isCode(imm)) {
    const f = functionAt(map, imm);
    if (f >= 0) taken.add(f);
  }
}

export type { FunctionCfg };
