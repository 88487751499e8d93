// Waiting for a server to be ready without fixed sleeps: until its port accepts connections (read from
// /proc/net/tcp, so that no probe connection shows up in the trace), or until it prints a line, with a deadline
// and an early failure when the process exits first.

import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { HomeostatError } from "../errors.js";

const POLL_MS = 10;

/** Whether something listens on 127.0.0.1:port (or on any address) right now. */
export function isListening(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  const text = readFileSync("/proc/net/tcp", "utf8");
  return text.includes(`0100007F:${hex} 00000000:0000 0A`) || text.includes(`00000000:${hex} 00000000:0000 0A`);
}

/** Resolves once 127.0.0.1:port listens; E_IO when `child` exits first or after `timeoutMs`. */
export async function waitForPort(port: number, child: ChildProcess, what: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!isListening(port)) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new HomeostatError("E_IO", `${what} exited (${child.exitCode ?? child.signalCode}) before listening`);
    }
    if (Date.now() > until)
      throw new HomeostatError("E_IO", `${what} did not listen on port ${port} in ${timeoutMs} ms`);
    await new Promise<void>((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Resolves with the first match of `pattern` in what `child` writes to stdout; E_IO on exit or timeout. */
export function waitForOutput(
  child: ChildProcess,
  pattern: RegExp,
  what: string,
  timeoutMs = 30_000,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let text = "";
    const done = (err: Error | undefined, m?: RegExpExecArray): void => {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.off("exit", onExit);
      if (err !== undefined) reject(err);
      else resolve(m!);
    };
    const onData = (chunk: Buffer): void => {
      text += chunk.toString("utf8");
      const m = pattern.exec(text);
      if (m !== null) done(undefined, m);
    };
    const onExit = (code: number | null): void =>
      done(new HomeostatError("E_IO", `${what} exited (${code}) before it was ready: ${text.trim().slice(-200)}`));
    const timer = setTimeout(
      () => done(new HomeostatError("E_IO", `${what} not ready within ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.stdout?.on("data", onData);
    child.once("exit", onExit);
  });
}
