// A client connection to the demo target (demo/kvserver.c): sends raw bytes, reads replies line by line or up to
// a marker. Its protocol is line-based, except BLOB whose raw payload follows the command line.

import net from "node:net";
import { HomeostatError } from "../errors.js";

export class DemoConnection {
  private readonly socket: net.Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private closed = false;
  private waiter: (() => void) | undefined;
  private readonly timeoutMs: number;

  private constructor(socket: net.Socket, timeoutMs: number) {
    this.socket = socket;
    this.timeoutMs = timeoutMs;
    socket.on("data", (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => {
      this.closed = true;
      this.wake();
    });
  }

  static connect(port: number, host = "127.0.0.1", timeoutMs = 10_000): Promise<DemoConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      socket.once("connect", () => {
        socket.removeAllListeners("error");
        resolve(new DemoConnection(socket, timeoutMs));
      });
      socket.once("error", (e) =>
        reject(new HomeostatError("E_IO", `cannot connect to ${host}:${port}: ${e.message}`, {}, { cause: e })),
      );
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  send(data: string | Uint8Array): void {
    this.socket.write(data);
  }

  /** Resolves with everything received up to and including `marker`, which is consumed. */
  async readUntil(marker: string | Uint8Array): Promise<Buffer> {
    const m = typeof marker === "string" ? Buffer.from(marker, "latin1") : Buffer.from(marker);
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const at = this.buffered.indexOf(m);
      if (at >= 0) {
        const out = this.buffered.subarray(0, at + m.length);
        this.buffered = this.buffered.subarray(at + m.length);
        return out;
      }
      if (this.closed) {
        throw new HomeostatError("E_IO", `connection closed while waiting for ${JSON.stringify(m.toString("latin1"))}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new HomeostatError("E_IO", `timed out waiting for ${JSON.stringify(m.toString("latin1"))}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** One reply line without its newline (latin1, so arbitrary bytes survive). */
  async readLine(): Promise<string> {
    const line = await this.readUntil("\n");
    return line.subarray(0, line.length - 1).toString("latin1");
  }

  /** Resolves once the server has closed the connection. */
  async waitClosed(): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new HomeostatError("E_IO", "timed out waiting for the server to close the session");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
