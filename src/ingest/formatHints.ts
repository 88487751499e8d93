// Byte tests that every head of a format passes: necessary conditions of the formats' sniffs, cheap enough to run
// on every input (a few byte searches), and kept apart from the parsers so that detection (formatLoader.ts) can rule
// a format out without loading its parser. Each sniff scores 0 for a head its test rejects.

/** "HOMEOSTT": the first 8 bytes of every homeostat binary trace. */
export const BINARY_TRACE_MAGIC: Uint8Array = new Uint8Array([0x48, 0x4f, 0x4d, 0x45, 0x4f, 0x53, 0x54, 0x54]);

/** Whether a head begins with the binary trace magic. */
export function hasBinaryTraceMagic(head: Uint8Array): boolean {
  if (head.length < BINARY_TRACE_MAGIC.length) return false;
  for (let i = 0; i < BINARY_TRACE_MAGIC.length; i++) if (head[i] !== BINARY_TRACE_MAGIC[i]) return false;
  return true;
}

/** Every LID-DS (sysdig text) line holds an event direction, `<` or `>`. */
export function hasEventDirection(head: Uint8Array): boolean {
  return head.indexOf(60) >= 0 || head.indexOf(62) >= 0;
}

/** Every strace line has a call's `(` or a `+++`/`---` message. */
export function hasStraceMarker(head: Uint8Array): boolean {
  return head.indexOf(40) >= 0 || head.indexOf(43) >= 0 || head.indexOf(45) >= 0;
}

/** Number lists (UNM, ADFA-LD) hold nothing but digits and whitespace, so they begin with one of those. */
export function beginsAsNumberList(head: Uint8Array): boolean {
  const b = head[0];
  return b !== undefined && ((b >= 48 && b <= 57) || b === 32 || b === 9 || b === 10 || b === 13);
}
