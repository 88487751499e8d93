import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path, { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { AlertSpool } from "./alertSpool.js";

const root = mkdtempSync(join(tmpdir(), "homeostat-spool-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `s${++n}`);

/** Acknowledges up to `count` records from the front; returns their payloads. */
async function drain(spool: AlertSpool, count = Number.POSITIVE_INFINITY): Promise<string[]> {
  const out: string[] = [];
  for (let e = spool.peek(); e !== undefined && out.length < count; e = spool.peek()) {
    out.push(e.payload);
    await spool.ack(e);
  }
  return out;
}

const alerts = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `{"n":${from + i}}`);

describe("AlertSpool", () => {
  it("gives records back in the order appended, each once", async () => {
    const spool = AlertSpool.open({ dir: freshDir(), name: "a", maxBytes: 1 << 20 });
    for (const a of alerts(0, 50)) expect(spool.append(a)).toBe(true);
    expect(await drain(spool)).toEqual(alerts(0, 50));
    expect(spool.peek()).toBeUndefined();
    expect(spool.stats).toMatchObject({ appended: 50, acked: 50, pendingRecords: 0, pendingBytes: 0 });
    await spool.close();
  });

  it("refuses what does not fit its bound, counts it, and takes records again once there is room", async () => {
    const spool = AlertSpool.open({ dir: freshDir(), name: "a", maxBytes: 200 });
    const results = alerts(0, 40).map((a) => spool.append(a));
    const kept = results.filter(Boolean).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(40);
    expect(results.slice(0, kept).every(Boolean)).toBe(true); // the first ones kept, the newest refused
    expect(spool.stats.pendingBytes).toBeLessThanOrEqual(200);
    expect(spool.stats.overflowed).toBe(40 - kept);
    expect(await drain(spool, 2)).toEqual(alerts(0, 2));
    expect(spool.append('{"n":"later"}')).toBe(true);
    expect(await drain(spool)).toEqual([...alerts(2, kept), '{"n":"later"}']);
    await spool.close();
  });

  it("after a restart, what was not acknowledged is waiting, first and in order; nothing acknowledged comes back", async () => {
    const dir = freshDir();
    const first = AlertSpool.open({ dir, name: "a", maxBytes: 1 << 20 });
    for (const a of alerts(0, 10)) first.append(a);
    expect(await drain(first, 4)).toEqual(alerts(0, 4));
    await first.close();
    const second = AlertSpool.open({ dir, name: "a", maxBytes: 1 << 20 });
    expect(second.stats.replayed).toBe(6);
    second.append('{"n":"new"}');
    expect(await drain(second)).toEqual([...alerts(4, 10), '{"n":"new"}']);
    await second.close();
    const third = AlertSpool.open({ dir, name: "a", maxBytes: 1 << 20 });
    expect(third.peek()).toBeUndefined();
    await third.close();
  });

  it("records appended but never closed (a crash) are on disk: the batch is written on the next turn", async () => {
    const dir = freshDir();
    const spool = AlertSpool.open({ dir, name: "a", maxBytes: 1 << 20 });
    for (const a of alerts(0, 3)) spool.append(a);
    await new Promise((r) => setImmediate(r));
    // No close: as if the process died here.
    const after = AlertSpool.open({ dir, name: "a", maxBytes: 1 << 20 });
    expect(await drain(after)).toEqual(alerts(0, 3));
    await after.close();
  });

  it("cuts off a torn last record, and goes on appending after the whole ones", async () => {
    const dir = freshDir();
    const spool = AlertSpool.open({ dir, name: "a", maxBytes: 1 << 20 });
    for (const a of alerts(0, 3)) spool.append(a);
    await spool.close();
    appendFileSync(spool.file, '57 0123abcd {"n":"to'); // an append cut short
    const after = AlertSpool.open({ dir, name: "a", maxBytes: 1 << 20 });
    after.append('{"n":"next"}');
    expect(await drain(after)).toEqual([...alerts(0, 3), '{"n":"next"}']);
    await after.close();
  });

  it("compacts the acknowledged part away, keeping the file bounded and the order across restarts", async () => {
    const dir = freshDir();
    let spool = AlertSpool.open({ dir, name: "a", maxBytes: 4096, compactBytes: 512 });
    const sent: string[] = [];
    for (let round = 0; round < 20; round++) {
      for (const a of alerts(round * 10, round * 10 + 10)) expect(spool.append(a)).toBe(true);
      sent.push(...(await drain(spool, 7)));
      expect(statSync(spool.file).size).toBeLessThanOrEqual(4096 + 512 + 64);
      if (round % 5 === 4) {
        await spool.close();
        spool = AlertSpool.open({ dir, name: "a", maxBytes: 4096, compactBytes: 512 });
      }
    }
    sent.push(...(await drain(spool)));
    expect(sent).toEqual(alerts(0, 200));
    await spool.close();
  });

  it("a torn acknowledgement write leaves the previous one: at worst the last alert is sent again", async () => {
    const dir = freshDir();
    const spool = AlertSpool.open({ dir, name: "a", maxBytes: 1 << 20 });
    for (const a of alerts(0, 5)) spool.append(a);
    expect(await drain(spool, 3)).toEqual(alerts(0, 3));
    await spool.close();
    // Damage the slot written last (the third acknowledgement): the second one wins.
    const ack = readFileSync(spool.ackFile);
    const seqs = [ack.readUInt32LE(4), ack.readUInt32LE(36)];
    const newest = seqs[0]! > seqs[1]! ? 0 : 32;
    ack[newest + 20] = ack[newest + 20]! ^ 0xff;
    writeFileSync(spool.ackFile, ack);
    const after = AlertSpool.open({ dir, name: "a", maxBytes: 1 << 20 });
    expect(await drain(after)).toEqual(alerts(2, 5));
    await after.close();
  });

  it("keeps a file that is not a spool aside instead of reading it as alerts", async () => {
    const dir = freshDir();
    const first = AlertSpool.open({ dir, name: "a", maxBytes: 1 << 20 });
    await first.close();
    writeFileSync(first.file, "not a spool\n");
    const spool = AlertSpool.open({ dir, name: "a", maxBytes: 1 << 20 });
    expect(spool.peek()).toBeUndefined();
    await spool.close();
  });
});

describe("AlertSpool.appendLines (the worker's batches)", () => {
  /** Payloads as alerts are: JSON, so any text without a raw newline. */
  const payload = fc.string({ unit: "binary", maxLength: 200 }).map((s) => JSON.stringify(s));

  it("frames newline-separated payloads into the same bytes as one append each, and reads them back", async () => {
    let k = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(payload, { maxLength: 20 }), fc.nat(8), async (xs, pad) => {
        const byLine = AlertSpool.open({ dir: join(root, `lines${++k}`), name: "a", maxBytes: 1 << 20 });
        const one = AlertSpool.open({ dir: join(root, `lines${++k}`), name: "a", maxBytes: 1 << 20 });
        const data = Buffer.concat([Buffer.alloc(pad, 0x78), Buffer.from(xs.map((x) => `${x}\n`).join(""), "utf8")]);
        expect(byLine.appendLines(data, pad, data.length)).toBe(xs.length);
        for (const x of xs) one.append(x);
        await byLine.close();
        await one.close();
        expect(readFileSync(byLine.file)).toEqual(readFileSync(one.file));
        const again = AlertSpool.open({ dir: path.dirname(byLine.file), name: "a", maxBytes: 1 << 20 });
        expect(await drain(again)).toEqual(xs);
        await again.close();
      }),
      { numRuns: 40 },
    );
  });

  it("refuses and counts the lines that do not fit the bound, keeping the first ones", async () => {
    const spool = AlertSpool.open({ dir: freshDir(), name: "a", maxBytes: 200 });
    const xs = alerts(0, 40);
    const taken = spool.appendLines(Buffer.from(`${xs.join("\n")}\n`), 0, Buffer.byteLength(xs.join("\n")) + 1);
    expect(taken).toBeGreaterThan(0);
    expect(spool.stats).toMatchObject({ appended: taken, overflowed: 40 - taken });
    expect(spool.stats.pendingBytes).toBeLessThanOrEqual(200);
    expect(await drain(spool)).toEqual(xs.slice(0, taken));
    await spool.close();
  });

  it("gives several records at once and acknowledges them together, across a restart and a compaction", async () => {
    const dir = freshDir();
    const spool = AlertSpool.open({ dir, name: "a", maxBytes: 1 << 20, compactBytes: 100 });
    for (const a of alerts(0, 30)) spool.append(a);
    const batch = spool.peekMany(10);
    expect(batch.map((e) => e.payload)).toEqual(alerts(0, 10));
    await expect(spool.ackThrough({ ...batch[3]!, offset: batch[3]!.offset + 1 })).rejects.toThrow(/out of order/);
    await spool.ackThrough(batch[6]!);
    expect(spool.stats).toMatchObject({ acked: 7, pendingRecords: 23 });
    expect(spool.peekMany(100).map((e) => e.payload)).toEqual(alerts(7, 30));
    await spool.close();
    const again = AlertSpool.open({ dir, name: "a", maxBytes: 1 << 20 });
    expect(again.peekMany(5).map((e) => e.payload)).toEqual(alerts(7, 12));
    await again.ackThrough(again.peekMany(23).at(-1)!);
    expect(again.peekMany(5)).toEqual([]);
    expect(again.stats).toMatchObject({ pendingRecords: 0, pendingBytes: 0 });
    await again.close();
  });
});
