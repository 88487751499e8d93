// An HTTP/1.1 receiver for the alert output's tests, on a port from the OS: it reads requests whole (http-parser-js),
// answers each with the bytes a script gives for its number, in order, and records the bodies. An answer that says
// `Connection: close` ends the connection after it, and what was pipelined behind it is not read, as Go's HTTP
// server and nginx do.

import net from "node:net";
import { HTTPParser } from "http-parser-js";

/** What the server answers to request number `n` (from 0, over all connections): bytes, or nothing (yet). */
export type Script = (n: number, body: string) => string | Buffer[] | undefined;

export class ScriptedServer {
  readonly bodies: string[] = [];
  connections = 0;
  /** Per connection, in order, the most requests that arrived whole in one read: above one, they were pipelined. */
  readonly mostInOneRead: number[] = [];
  private readonly sockets = new Set<net.Socket>();
  private server: net.Server | undefined;

  constructor(private readonly script: Script) {}

  /** Listens on loopback; the URL to post to. */
  async start(): Promise<URL> {
    const server = net.createServer((socket) => this.serve(socket));
    this.server = server;
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return new URL(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}/alerts?x=1`);
  }

  private serve(socket: net.Socket): void {
    const index = this.connections++;
    this.mostInOneRead[index] = 0;
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => {});
    const parser = new HTTPParser(HTTPParser.REQUEST);
    let body = "";
    let inThisRead = 0;
    let closing = false;
    parser[HTTPParser.kOnBody] = (chunk: Buffer) => (body += chunk.toString("utf8"));
    parser[HTTPParser.kOnMessageComplete] = () => {
      if (closing) return;
      const n = this.bodies.length;
      this.bodies.push(body);
      body = "";
      inThisRead++;
      const answer = this.script(n, this.bodies[n]!);
      if (answer === undefined) return;
      if (typeof answer === "string") socket.write(answer);
      else for (const piece of answer) socket.write(piece);
      if (/\r\nconnection: close\r\n/i.test(typeof answer === "string" ? answer : Buffer.concat(answer).toString())) {
        closing = true;
        socket.end();
      }
    };
    socket.on("data", (d: Buffer) => {
      inThisRead = 0;
      if (closing) return;
      if (parser.execute(d) instanceof Error) socket.destroy();
      this.mostInOneRead[index] = Math.max(this.mostInOneRead[index]!, inThisRead);
    });
  }

  /** Closes the connections open now (as a receiver whose keep-alive timeout ran out does). */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}
