// A threaded execve in strace output: a non-leader thread's execve takes over the leader's pid. strace shows the
// call started under the thread (`<pid changed to N ...>`), then `+++ superseded by execve in pid OLD +++`, then
// the execve's return under the leader's pid. This is what the parser carries between those lines, so that the
// call is counted once and its exec note names the program (docs/strace-format.md).

export class StraceExecHandover {
  /** The stream whose next `<... execve resumed>` completes a call counted elsewhere (-1: none). */
  supersededStream = -1;
  /** The pid and path of the last `execve(... <pid changed to N ...>`. */
  pidChangeTo = -1;
  pidChangePath: string | null = null;
}
