import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadTraces } from "../ingest/loadTraces.js";
import { captureStrace, straceUnavailableReason } from "../ingest/testing/straceCapture.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import { seccompPolicy } from "./seccompPolicy.js";

describe("seccompPolicy", () => {
  it("allows exactly the x86_64 syscalls seen, sorted; refuses the rest with EPERM", () => {
    const r = seccompPolicy(["read", "write", "openat", "read", "syscall_1000", "?3"]);
    expect(r.profile.defaultAction).toBe("SCMP_ACT_ERRNO");
    expect(r.profile.defaultErrnoRet).toBe(1);
    expect(r.profile.architectures).toEqual(["SCMP_ARCH_X86_64"]);
    expect(r.profile.syscalls[0]!.names).toEqual(["openat", "read", "write"]);
    expect(r.skipped).toEqual(["?3", "syscall_1000"]);
    expect(seccompPolicy(["read"], "log").profile.defaultAction).toBe("SCMP_ACT_LOG");
  });

  const unavailable = straceUnavailableReason();
  it.skipIf(unavailable !== undefined)("a policy learned from a real run lists every syscall strace -c counted", async () => {
    const cap = captureStrace(["-f", "-C"], ["ls", "/"]);
    const dir = mkdtempSync(join(tmpdir(), "homeostat-seccomp-"));
    const file = join(dir, "ls.txt");
    writeFileSync(file, cap.text);
    const vocab = new Vocabulary();
    await loadTraces([file], vocab);
    const seen = Array.from({ length: vocab.size }, (_, i) => vocab.token(i));
    const names = seccompPolicy(seen).profile.syscalls[0]!.names;
    // strace's own summary table names every syscall it saw (last column).
    const text = cap.text.toString("utf8");
    const table = text.slice(text.indexOf("% time"));
    const summary = table
      .split("\n")
      .slice(2)
      .map((l) => l.trim().split(/\s+/).pop()!)
      .filter((n) => /^[a-z_0-9]+$/.test(n) && n !== "total");
    for (const n of summary) expect(names).toContain(n);
  });
});
