import { spawn, spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { signalFailure, trySignal } from "./signals.js";

/**
 * What process.kill throws for `pid` (another user's) as an unprivileged user: nobody through setpriv when we are
 * root; undefined when that cannot be arranged.
 */
function unprivilegedKillCode(pid: number): string | undefined {
  const owner = statSync(`/proc/${pid}`).uid;
  const script = `try { process.kill(${pid}, 0); process.stdout.write("sent") } catch (e) { process.stdout.write(String(e.code)) }`;
  if (process.getuid?.() !== 0) {
    if (owner === process.getuid?.()) return undefined; // our own (a container's init): permitted
    try {
      process.kill(pid, 0);
      return "sent";
    } catch (err) {
      return signalFailure(err).code;
    }
  }
  if (owner === 65534) return undefined;
  const r = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "-e", script], {
    encoding: "utf8",
  });
  return r.status === 0 ? r.stdout : undefined;
}

describe("signal failures", () => {
  it("tells a process that is gone (ESRCH) from one that may not be signalled (EPERM), from process.kill's own errors", async () => {
    const child = spawn("true", { stdio: "ignore" });
    await new Promise((resolve) => child.on("exit", resolve)); // exited and reaped: its pid names no process
    const gone = trySignal((pid, signal) => process.kill(pid, signal), child.pid!, "SIGSTOP");
    expect(gone).toEqual({ code: "ESRCH", gone: true, text: "ESRCH (no such process)" });
    expect(trySignal(() => {}, 1, "SIGSTOP")).toBeUndefined();
    expect(signalFailure(new Error("something else"))).toEqual({
      code: "unknown",
      gone: false,
      text: "something else",
    });
    expect(signalFailure(Object.assign(new Error("kill EINVAL"), { code: "EINVAL" }))).toEqual({
      code: "EINVAL",
      gone: false,
      text: "EINVAL",
    });
  });

  const code = unprivilegedKillCode(1);
  it.skipIf(code === undefined)("an unprivileged process.kill of init throws EPERM, which is not read as gone", () => {
    expect(code).toBe("EPERM");
    const failure = signalFailure(Object.assign(new Error(`kill ${code}`), { code }));
    expect(failure).toEqual({ code: "EPERM", gone: false, text: "EPERM (not permitted)" });
  });
});
