// Line-at-a-time talk with a program over its stdin and stdout (a worker that reads jobs and answers each with one
// line), with a deadline on every answer and an error when the program exits instead of answering.

import type { ChildProcess } from "node:child_process";
import { HomeostatError } from "../errors.js";

export class LineChannel {
  private buffered = "";
  private waiter: (() => void) | undefined;
  private ended = false;

  constructor(
    private readonly child: ChildProcess,
    private readonly what: string,
  ) {
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (s: string) => {
      this.buffered += s;
      this.wake();
    });
    child.stdout!.once("end", () => {
      this.ended = true;
      this.wake();
    });
    child.stdin!.on("error", () => {});
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** The next line the program writes (without its newline). */
  async readLine(timeoutMs = 30_000): Promise<string> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const nl = this.buffered.indexOf("\n");
      if (nl >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        return line;
      }
      if (this.ended) throw new HomeostatError("E_IO", `${this.what} ended its output instead of answering`);
      const left = until - Date.now();
      if (left <= 0) throw new HomeostatError("E_IO", `${this.what} did not answer within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Ends the program's input. */
  end(): void {
    this.child.stdin!.end();
  }
}
