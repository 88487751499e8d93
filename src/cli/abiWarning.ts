// The one-line warning `detect` prints when a profile's vocabulary looks trained on another ABI than the program it
// is about to score (src/syscalls/abiMismatch.ts): without it, an ADFA-LD (i386) profile alarms within a few calls
// of any x86_64 program and nothing says that the profile, not the program, is the cause.

import { abiMismatch, nativeAbi } from "../syscalls/abiMismatch.js";
import type { AbiName } from "../syscalls/abi.js";

/** A few names, then how many more. */
function sample(names: readonly string[], shown = 5): string {
  const head = names.slice(0, shown).join(", ");
  return names.length > shown ? `${head} and ${names.length - shown} more` : head;
}

/** The warning line (without a newline) for `names` of `profile`, or undefined when they fit the live ABI. */
export function abiWarning(
  profile: string,
  names: readonly string[],
  live: AbiName | undefined = nativeAbi(),
): string | undefined {
  if (live === undefined) return undefined;
  const m = abiMismatch(names, live);
  if (m === undefined) return undefined;
  const consequence = "calls it never saw will alarm from the start; train the profile on traces of this machine";
  if (m.likely !== undefined) {
    return (
      `homeostat: warning: profile ${profile} looks trained on ${m.likely} traces (${m.otherOnly.length} of its ` +
      `${m.weighed} call names exist only on ${m.likely}: ${sample(m.otherOnly)}), but the program runs as ${live}: ` +
      consequence
    );
  }
  return (
    `homeostat: warning: ${m.foreign.length} of the ${m.weighed} call names of profile ${profile} are not ${live} ` +
    `system calls (${sample(m.foreign)}), the ABI the program runs as: ${consequence}`
  );
}
