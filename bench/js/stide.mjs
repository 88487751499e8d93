// stide in plain JavaScript, line for line the C program bench/c/stide.c does (same arguments, same output): the
// bench runs it beside the C program to show what the Node runtime itself costs on this task (start-up, file
// reading, one process), against which homeostat's own overhead can be judged. Not part of homeostat.
//
//   node stide.mjs [-k K] [-f FRAME] TRAIN_PATH... -- TEST_PATH...
import { readdirSync, readFileSync, statSync, writeSync } from "node:fs";
import path from "node:path";

let k = 6;
let frame = 20;
let slots = new Int32Array(0); // capacity * k calls
let used = new Uint8Array(0);
let capacity = 0;
let count = 0;

function hashWindow(w, at) {
  let h = 0x811c9dc5;
  for (let i = 0; i < k; i++) h = Math.imul(h ^ w[at + i], 0x01000193);
  h ^= h >>> 15;
  return Math.imul(h, 0x2c1b3c6d) >>> 0;
}

/** The slot of the window w[at .. at+k): its own when stored (found = 1), else the empty one where it would go. */
let found = 0;
function findSlot(w, at) {
  const mask = capacity - 1;
  let i = hashWindow(w, at) & mask;
  for (;;) {
    if (used[i] === 0) {
      found = 0;
      return i;
    }
    let j = 0;
    while (j < k && slots[i * k + j] === w[at + j]) j++;
    if (j === k) {
      found = 1;
      return i;
    }
    i = (i + 1) & mask;
  }
}

function setInit(cap) {
  capacity = cap;
  count = 0;
  slots = new Int32Array(cap * k);
  used = new Uint8Array(cap);
}

function setAdd(w, at) {
  const i = findSlot(w, at);
  if (found) return;
  for (let j = 0; j < k; j++) slots[i * k + j] = w[at + j];
  used[i] = 1;
  if (++count * 2 > capacity) {
    const oldSlots = slots;
    const oldUsed = used;
    setInit(capacity * 2);
    for (let s = 0; s < oldUsed.length; s++) if (oldUsed[s]) setAdd(oldSlots, s * k);
  }
}

let calls = new Int32Array(1 << 14);
function readTrace(file) {
  const buf = readFileSync(file);
  let n = 0;
  let i = 0;
  const len = buf.length;
  while (i < len) {
    let c = buf[i];
    while (i < len && (c === 32 || c === 10 || c === 13 || c === 9)) c = buf[++i];
    if (i === len) break;
    if (c < 48 || c > 57) die(file, "not a list of system-call numbers");
    let v = 0;
    while (i < len && c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      if (v > 1_000_000) die(file, "system-call number too large");
      c = buf[++i];
    }
    if (n === calls.length) {
      const next = new Int32Array(n * 2);
      next.set(calls);
      calls = next;
    }
    calls[n++] = v;
  }
  return n;
}

function walk(p, fn) {
  const st = statSync(p);
  if (st.isFile()) {
    fn(p, readTrace(p));
    return;
  }
  if (!st.isDirectory()) return;
  for (const name of readdirSync(p).sort()) {
    if (name.startsWith(".")) continue;
    walk(path.join(p, name), fn);
  }
}

let trainedTraces = 0;
let trainedCalls = 0;
function train(_file, n) {
  trainedTraces++;
  trainedCalls += n;
  for (let i = 0; i + k <= n; i++) setAdd(calls, i);
}

let out = "";
let ring = new Uint8Array(0);
function score(file, n) {
  ring.fill(0);
  let head = 0;
  let windows = 0;
  let mismatches = 0;
  let lfc = 0;
  let maxLfc = 0;
  for (let i = 0; i < n; i++) {
    let bit = 0;
    if (i + 1 >= k) {
      windows++;
      findSlot(calls, i + 1 - k);
      if (!found) {
        bit = 1;
        mismatches++;
      }
    }
    lfc += bit - ring[head];
    ring[head] = bit;
    head = head + 1 === frame ? 0 : head + 1;
    if (lfc > maxLfc) maxLfc = lfc;
  }
  out += `${file}\t${n}\t${windows}\t${mismatches}\t${maxLfc}\n`;
  if (out.length > 65_536) flush();
}

function flush() {
  writeSync(1, out);
  out = "";
}

function die(what, detail) {
  process.stderr.write(`stide: ${what}${detail ? `: ${detail}` : ""}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let a = 0;
for (; a < args.length && args[a].startsWith("-") && args[a] !== "--"; a++) {
  if (args[a] === "-k" && a + 1 < args.length) k = Number(args[++a]);
  else if (args[a] === "-f" && a + 1 < args.length) frame = Number(args[++a]);
  else die("usage: stide [-k K] [-f FRAME] TRAIN_PATH... -- TEST_PATH...");
}
if (!(k >= 1 && k <= 64 && frame >= 1)) die("-k must be 1..64 and -f at least 1");
setInit(1 << 16);
ring = new Uint8Array(frame);
for (; a < args.length && args[a] !== "--"; a++) walk(args[a], train);
if (a === args.length) die("usage: stide [-k K] [-f FRAME] TRAIN_PATH... -- TEST_PATH...");
process.stderr.write(`stide: k=${k}, ${count} distinct windows from ${trainedTraces} traces (${trainedCalls} calls)\n`);
for (a++; a < args.length; a++) walk(args[a], score);
flush();
