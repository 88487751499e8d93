// The acknowledgement file of the alert spool (alertSpool.ts), `<name>.ack`: two 32-byte slots written in turn, each
// the spool's generation and the offset acknowledged in it, with a sequence number and a crc32. The valid slot with
// the higher sequence wins, so a write torn by a crash leaves the previous acknowledgement, never a wrong one.

import { closeSync, existsSync, fdatasync, fdatasyncSync, openSync, readFileSync, write, writeSync } from "node:fs";
import { promisify } from "node:util";
import { crc32 } from "node:zlib";

const writeAsync = promisify(write);
const fdatasyncAsync = promisify(fdatasync);

const SLOT = 32;
const ACK_MAGIC = 0x4b415348; // "HSAK"

export interface AckState {
  seq: number;
  generation: number;
  offset: number;
}

/** The open acknowledgement file: what it held when opened, and the writes of new acknowledgements. */
export class SpoolAcks {
  private seq: number;

  private constructor(
    private readonly fd: number,
    /** The newest valid acknowledgement found when opened, if any. */
    readonly recovered: AckState | undefined,
  ) {
    this.seq = recovered?.seq ?? 0;
  }

  /** Opens (or creates) the file and reads the acknowledgement a previous run left. */
  static open(file: string): SpoolAcks {
    const fd = openSync(file, existsSync(file) ? "r+" : "w+", 0o600);
    return new SpoolAcks(fd, readAck(fd));
  }

  /** Writes `offset` of `generation` as acknowledged and fdatasyncs it. */
  async write(generation: number, offset: number): Promise<void> {
    const slot = this.nextSlot(generation, offset);
    await writeAsync(this.fd, slot.buf, 0, SLOT, slot.position);
    await fdatasyncAsync(this.fd);
  }

  writeSync(generation: number, offset: number): void {
    const slot = this.nextSlot(generation, offset);
    writeSync(this.fd, slot.buf, 0, SLOT, slot.position);
    fdatasyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }

  private nextSlot(generation: number, offset: number): { buf: Buffer; position: number } {
    const seq = ++this.seq;
    return { buf: encodeAck({ seq, generation, offset }), position: (seq % 2) * SLOT };
  }
}

/** One acknowledgement slot: magic, sequence, generation, offset (u64), reserved, crc32 of the 28 bytes before. */
export function encodeAck(ack: AckState): Buffer {
  const b = Buffer.alloc(SLOT);
  b.writeUInt32LE(ACK_MAGIC, 0);
  b.writeUInt32LE(ack.seq >>> 0, 4);
  b.writeUInt32LE(ack.generation >>> 0, 8);
  b.writeBigUInt64LE(BigInt(ack.offset), 12);
  b.writeUInt32LE(crc32(b.subarray(0, 28)), 28);
  return b;
}

/** The newest valid acknowledgement of the two slots, or undefined (none written yet, or both damaged). */
function readAck(fd: number): AckState | undefined {
  const b = Buffer.alloc(2 * SLOT);
  let n = 0;
  try {
    n = readFileSync(fd).copy(b);
  } catch {
    return undefined;
  }
  let best: AckState | undefined;
  for (let i = 0; i + SLOT <= n; i += SLOT) {
    const s = b.subarray(i, i + SLOT);
    if (s.readUInt32LE(0) !== ACK_MAGIC || s.readUInt32LE(28) !== crc32(s.subarray(0, 28))) continue;
    const ack = { seq: s.readUInt32LE(4), generation: s.readUInt32LE(8), offset: Number(s.readBigUInt64LE(12)) };
    if (best === undefined || ack.seq > best.seq) best = ack;
  }
  return best;
}
