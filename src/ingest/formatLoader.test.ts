import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BINARY_TRACE_MAGIC } from "./binaryTrace.js";
import { LAZY_FORMATS, loadedFor, loadFor, loadFormat, sniffLoaded } from "./formatLoader.js";
import { detectFormat, FORMATS } from "./formats.js";

const SAMPLES: Record<string, { path: string; text: string | Uint8Array }> = {
  strace: {
    path: "run.strace",
    text: '1234  openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3\n1234  read(3, "", 832) = 0\n1234  close(3) = 0\n1234  +++ exited with 0 +++\n',
  },
  lidds2021: {
    path: "rec.sc",
    text: "1631209047761484608 33 1015 apache2 1015 futex < res=0\n1631209047761494608 33 1015 apache2 1015 read > fd=3\n",
  },
  lidds2019: {
    path: "rec.txt",
    text: "1 19:39:44.116014526 0 999 mysqld 2001 > futex addr=7F\n2 19:39:44.116015526 0 999 mysqld 2001 < futex res=0\n",
  },
  unm: { path: "sendmail.int", text: "123 5\n123 3\n123 4\n124 5\n" },
  adfa: { path: "UTD-0001.txt", text: "6 6 63 6 42 120 6 195 120 6 6 114 114 1 1 252 " },
  homeostat: { path: "t.hstrace", text: Uint8Array.from([...BINARY_TRACE_MAGIC, 1, 0, 0, 0, 0, 0, 0, 0]) },
};

function bytesOf(text: string | Uint8Array): Uint8Array {
  return typeof text === "string" ? Buffer.from(text) : text;
}

/** detectFormat over every format, and every format's byte test against its sniff, for one head. */
async function checkHead(head: Uint8Array, path: string): Promise<void> {
  if (!loadedFor(head)) await loadFor(head);
  expect(loadedFor(head)).toBe(true);
  expect(sniffLoaded(head, path)).toBe(detectFormat(head, path));
  for (const lazy of LAZY_FORMATS) {
    const format = FORMATS.find((f) => f.name === lazy.name)!;
    if (!lazy.mayMatch(head)) expect(format.sniff(head, path)).toBe(0);
  }
}

describe("formatLoader", () => {
  it("lists every format in the order detection tries them", () => {
    expect(LAZY_FORMATS.map((f) => f.name)).toEqual(FORMATS.map((f) => f.name));
  });

  it("loads each format by name, the same object formats.ts holds", async () => {
    for (const f of FORMATS) expect(await loadFormat(f.name)).toBe(f);
    await expect(loadFormat("nope")).rejects.toMatchObject({ code: "E_USAGE" });
  });

  it("detects each format's sample as detectFormat does", async () => {
    for (const [name, { path, text }] of Object.entries(SAMPLES)) {
      const head = bytesOf(text);
      expect(detectFormat(head, path)?.name).toBe(name);
      await checkHead(head, path);
    }
  });

  it("agrees with detectFormat on cut samples and mixed bytes", async () => {
    const alphabet = fc.constantFrom(...'0123456789  \n\t\r()<>+-=,.:_abcxyzHOMEST"'.split(""));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.values(SAMPLES)),
        fc.nat(),
        fc.array(alphabet, { maxLength: 80 }),
        async (sample, cut, extra) => {
          const bytes = bytesOf(sample.text);
          const head = Buffer.concat([bytes.subarray(0, cut % (bytes.length + 1)), Buffer.from(extra.join(""))]);
          await checkHead(head, sample.path);
          await checkHead(Buffer.from(extra.join("")), sample.path);
        },
      ),
      { numRuns: 500 },
    );
  });
});
