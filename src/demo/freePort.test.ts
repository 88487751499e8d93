import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { freePort } from "./freePort.js";

describe("freePort", () => {
  it("hands out distinct bindable ports below the kernel's ephemeral range", async () => {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    const ports: number[] = [];
    for (let i = 0; i < 20; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
    for (const p of ports) {
      expect(p).toBeLessThan(low);
      const srv = createServer().listen(p, "127.0.0.1");
      await once(srv, "listening");
      srv.close();
      await once(srv, "close");
    }
  });
});
