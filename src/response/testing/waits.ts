// Waiting on events instead of sleeping for a fixed time: a bounded poll that yields to the event loop between
// tries, and the state of a process as /proc tells it (a signal's effect shows there once the target has run).

import { readFileSync } from "node:fs";

/**
 * Resolves as soon as `check()` holds, trying again after each turn of the event loop; rejects, saying `what` was
 * awaited, when it still does not hold after `timeoutMs` (a bound for a broken build, not a delay: a passing test
 * waits only as long as the event takes).
 */
export async function until(what: string | (() => string), check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (let tries = 0; ; tries++) {
    if (check()) return;
    if (performance.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms (${tries} tries) waiting for ${typeof what === "string" ? what : what()}`,
      );
    }
    // setImmediate for the first tries (the event may be one turn away), then a short timer, not to spin a core.
    await new Promise((resolve) => (tries < 10 ? setImmediate(resolve) : setTimeout(resolve, 2)));
  }
}

/** The state letter of `pid` in /proc (R running, S sleeping, T stopped, Z zombie), or "gone". */
export function procState(pid: number): string {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return "gone";
  }
  const end = stat.lastIndexOf(")");
  return stat.slice(end + 2, end + 3);
}

/** Waits until `pid` is in one of `states`. */
export async function untilState(pid: number, ...states: string[]): Promise<void> {
  let last = "";
  await until(
    () => `pid ${pid} to be in state ${states.join(" or ")} (last seen: ${last})`,
    () => states.includes((last = procState(pid))),
  );
}
