// The program an execve/execveat line runs, for the exec notes that name what each stream executes.

import * as byteScan from "./byteScan.js";
import { decodeQuoted } from "./quotedString.js";

// Bound to module constants rather than used as imported names (see byteScan.ts).
const { findByte, utf8 } = byteScan;

const SP = 0x20;
const COMMA = 0x2c;
const LT = 0x3c;
const GT = 0x3e;

/**
 * The program path of an execve/execveat call from its arguments b[argsStart, argsEnd): the first quoted
 * argument (execveat: the second, or the -y path of its fd when that is empty). null when the path is not printed
 * (e.g. -e raw=all shows a pointer).
 */
export function execPath(b: Uint8Array, isExecveat: boolean, argsStart: number, argsEnd: number): string | null {
  if (!isExecveat) return decodeQuoted(b, argsStart, argsEnd) ?? null;
  // execveat(dirfd, "path", ...): skip the fd, keeping its -y decoration in case the path is "".
  let p = argsStart;
  let fdPath: string | null = null;
  while (p < argsEnd && b[p] !== COMMA && b[p] !== LT) p++;
  if (b[p] === LT) {
    const q = findByte(b, GT, p, argsEnd);
    if (q > p) fdPath = utf8(b, p + 1, q);
    p = q < 0 ? argsEnd : q + 1;
  }
  while (p < argsEnd && b[p] !== COMMA) p++;
  p++;
  while (p < argsEnd && b[p] === SP) p++;
  const path = decodeQuoted(b, p, argsEnd);
  return path !== undefined && path.length > 0 ? path : fdPath;
}
