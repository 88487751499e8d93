// The attacker's end of a reverse shell: a listener on 127.0.0.1 (a port the kernel picks) that the build opens
// itself, over plain TCP or TLS (GTFOBins' openssl reverse shell talks TLS to `openssl s_server`; here Node's TLS
// server plays that part). When the shell connects, the listener sends `id`, waits for its answer (the proof that
// a shell really runs), sends `exit` and waits for the connection to end.

import net from "node:net";
import tls from "node:tls";
import { HomeostatError } from "../errors.js";

export interface ShellListenerOptions {
  /** TLS key and certificate (PEM); plain TCP without. */
  tls?: { key: string; cert: string };
  /** Close our side after `exit` (a TLS client that ignores end of input only leaves when the server does). */
  hangUp?: boolean;
  timeoutMs?: number;
}

export interface ShellListener {
  port: number;
  /** Resolves with what the shell answered to `id`; rejects when nothing connects in time. */
  readonly transcript: Promise<string>;
  close(): void;
}

const UID = /uid=\d+\(/;

/** Opens the listener; the returned transcript settles once one shell has connected and answered, or timed out. */
export async function openShellListener(options: ShellListenerOptions = {}): Promise<ShellListener> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  let settle: { resolve: (s: string) => void; reject: (e: Error) => void } | undefined;
  const transcript = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  transcript.catch(() => {});
  const state: Conversation = { socket: undefined, answered: false };
  const onSocket = (socket: net.Socket): void => {
    if (state.socket !== undefined) return void socket.destroy();
    state.socket = socket;
    converse(socket, state, options.hangUp === true, settle!);
  };
  const server = options.tls
    ? tls.createServer({ key: options.tls.key, cert: options.tls.cert }, onSocket)
    : net.createServer(onSocket);
  server.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  // Past the deadline: a shell that answered but lingers is cut off (and counts); one that never answered fails.
  const timer = setTimeout(() => {
    if (state.answered) state.socket?.destroy();
    else settle!.reject(new HomeostatError("E_IO", `no reverse shell answered within ${timeoutMs} ms`));
  }, timeoutMs);
  void transcript.finally(() => clearTimeout(timer)).catch(() => {});
  return {
    port: (server.address() as net.AddressInfo).port,
    transcript,
    close() {
      clearTimeout(timer);
      server.close();
    },
  };
}

/** The one shell a listener talks to. */
interface Conversation {
  socket: net.Socket | undefined;
  answered: boolean;
}

/** Sends `id`, waits for `uid=`, sends `exit`, and settles when the connection ends. */
function converse(
  socket: net.Socket,
  state: Conversation,
  hangUp: boolean,
  settle: { resolve: (s: string) => void; reject: (e: Error) => void },
): void {
  let text = "";
  socket.setEncoding("utf8");
  socket.on("error", () => {});
  socket.on("data", (s: string) => {
    text += s;
    if (!state.answered && UID.test(text)) {
      state.answered = true;
      socket.write("exit\n");
      if (hangUp) socket.end();
    }
  });
  socket.on("close", () => {
    if (state.answered) settle.resolve(text);
    else settle.reject(new HomeostatError("E_IO", `the reverse shell closed without answering: ${text.slice(-200)}`));
  });
  socket.write("id\n");
}
