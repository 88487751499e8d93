import net from "node:net";
import { describe, expect, it } from "vitest";
import { openShellListener } from "./reverseShell.js";

/** A stand-in for a shell that connected back: answers `id`, leaves on `exit`. */
function fakeShell(port: number, answer = "uid=1000(dev) gid=1000(dev)\n"): net.Socket {
  const socket = net.connect(port, "127.0.0.1");
  socket.setEncoding("utf8");
  socket.on("data", (s: string) => {
    if (s.includes("id\n")) socket.write(answer);
    if (s.includes("exit\n")) socket.end();
  });
  return socket;
}

describe("the reverse-shell listener", () => {
  it("sends id, takes the answer, sends exit, and settles when the shell leaves", async () => {
    const listener = await openShellListener();
    try {
      fakeShell(listener.port);
      await expect(listener.transcript).resolves.toContain("uid=1000(dev)");
    } finally {
      listener.close();
    }
  });

  it("fails when the connection closes without an answer", async () => {
    const listener = await openShellListener();
    try {
      net.connect(listener.port, "127.0.0.1").end();
      await expect(listener.transcript).rejects.toThrow(/closed without answering/);
    } finally {
      listener.close();
    }
  });

  it("fails when nothing connects in time", async () => {
    const listener = await openShellListener({ timeoutMs: 50 });
    try {
      await expect(listener.transcript).rejects.toThrow(/no reverse shell answered/);
    } finally {
      listener.close();
    }
  });
});
