// The pid in the name of an `strace -ff -o NAME` output file: what reading a folder of them needs to know before
// the strace parser is loaded, in a module of its own so that reading other formats never loads that parser.

/** Linux's PID_MAX_LIMIT. */
export const PID_MAX = 4_194_304;

/**
 * The pid of an `strace -ff -o NAME` output file `NAME.<pid>`, or undefined when the name does not end that way.
 * Takes the last path component of a file path or an `archive:member` display path.
 */
export function pidFromStraceFileName(path: string): number | undefined {
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"), path.lastIndexOf(":"));
  const base = path.slice(slash + 1);
  const dot = base.lastIndexOf(".");
  if (dot <= 0 || dot === base.length - 1) return undefined;
  const digits = base.slice(dot + 1);
  if (digits.length > 10) return undefined;
  for (let i = 0; i < digits.length; i++) {
    const c = digits.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  const pid = Number(digits);
  // Linux pids are 1..PID_MAX_LIMIT (2^22); a leading zero is not how strace writes one.
  if (pid < 1 || pid > PID_MAX || digits[0] === "0") return undefined;
  return pid;
}
