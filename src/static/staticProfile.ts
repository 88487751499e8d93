// A static analysis of a binary (src/static, Wagner & Dean, IEEE S&P 2001) as a profile of the `static` detector:
// the vocabulary is the x86_64 names of the calls the code can make, plus execve and execveat as entry calls (the
// exec that starts the program is made by the image before it), so `score -p` and `detect -p` use it unchanged.

import { HomeostatError } from "../errors.js";
import type { Profile } from "../models/profile.js";
import { type StaticCalls, type StaticMode, staticCallsFactory } from "../models/staticCalls.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import type { StaticModel } from "./staticModel.js";

/** The calls that may start a stream: the exec of the program itself. */
export const ENTRY_CALLS: readonly string[] = ["execve", "execveat"];

/** The profile of a static model; digraph mode needs a model analysed with its pairs. */
export function staticProfile(model: StaticModel, mode: StaticMode = "set"): Profile & { detector: StaticCalls } {
  if (mode === "digraph" && model.pairs === undefined) {
    throw new HomeostatError("E_MODEL", "a digraph profile needs a model analysed with its pairs (digraph: true)");
  }
  const vocabulary = new Vocabulary([...model.names, ...ENTRY_CALLS]);
  const idOf = new Map<number, number>(model.syscalls.map((n, i) => [n, vocabulary.lookup(model.names[i]!)]));
  const id = (n: number): number => idOf.get(n)!;
  const main = model.objects.find((o) => o.role === "main");
  const detector = staticCallsFactory.fromCalls(
    {
      vocabularySize: vocabulary.size,
      calls: model.syscalls.map(id),
      entry: ENTRY_CALLS.map((name) => vocabulary.lookup(name)),
      pairs: (model.pairs ?? []).map(([a, b]) => [id(a), id(b)] as const),
      sources: [
        {
          program: model.program,
          script: model.script?.path ?? "",
          buildId: main?.buildId ?? "",
          complete: model.complete,
        },
      ],
    },
    { mode },
  );
  return { detector, vocabulary };
}
