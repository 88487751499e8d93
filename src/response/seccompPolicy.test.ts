import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadTraces } from "../ingest/loadTraces.js";
import { captureStrace, straceUnavailableReason } from "../ingest/testing/straceCapture.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import { RUNTIME_CALLS, seccompPolicy } from "./seccompPolicy.js";

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

  it("takes a comment, and adds what the container runtime calls after installing the filter, each with why", () => {
    const plain = seccompPolicy(["read", "execve"], "enforce", { comment: "from static analysis" });
    expect(plain.profile.syscalls).toEqual([
      { names: ["execve", "read"], action: "SCMP_ACT_ALLOW", comment: "from static analysis" },
    ]);
    const r = seccompPolicy(["read", "execve", "futex"], "enforce", {
      comment: "from static analysis",
      runtimeCalls: true,
    });
    expect(r.profile.syscalls.length).toBe(2);
    const runtime = r.profile.syscalls[1]!;
    expect(runtime.action).toBe("SCMP_ACT_ALLOW");
    // Only what the program's own entry lacks, sorted, each explained in the comment.
    const expected = RUNTIME_CALLS.map((c) => c.name)
      .filter((n) => !["read", "execve", "futex"].includes(n))
      .sort();
    expect(runtime.names).toEqual(expected);
    expect(runtime.names).toContain("execveat");
    for (const c of RUNTIME_CALLS.filter((c) => expected.includes(c.name)))
      expect(runtime.comment).toContain(`${c.name}: ${c.why}`);
    expect(runtime.comment).toMatch(/runc.*no_new_privs/);
    for (const c of RUNTIME_CALLS) expect(seccompPolicy([c.name]).skipped).toEqual([]);
  });

  const unavailable = straceUnavailableReason();
  it.skipIf(unavailable !== undefined)(
    "a policy learned from a real run lists every syscall strace -c counted",
    async () => {
      const cap = captureStrace(["-f", "-C"], ["ls", "/"]);
      const dir = mkdtempSync(join(tmpdir(), "homeostat-seccomp-"));
      const file = join(dir, "ls.txt");
      writeFileSync(file, cap.text);
      const vocab = new Vocabulary();
      try {
        await loadTraces([file], vocab);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
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
      // The table was found and read (else the loop below would check nothing): ls makes a few dozen distinct calls.
      expect(summary).toContain("execve");
      expect(summary.length).toBeGreaterThan(10);
      for (const n of summary) expect(names).toContain(n);
    },
  );
});
