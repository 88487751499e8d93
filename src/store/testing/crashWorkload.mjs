// The workload of the crash-safety test, shared by the parent test (TypeScript) and the child it kills (plain
// JavaScript, since the child runs the built store under bare node): a fixed set of profile keys, and every field
// of a profile, blob included, derived from (profile index, version) alone. So after a kill the parent can say
// exactly what each profile must contain at the version the database holds, byte for byte.

export const PROFILE_COUNT = 20;

export function keyOf(index) {
  return `/usr/lib/crash-test/prog-${index}@2049:${1000 + index}`;
}

/** FNV-1a of the key, mixed with the version: the seed of everything that varies. */
function seedOf(index, version) {
  let h = 0x811c9dc5;
  const key = keyOf(index);
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h ^ Math.imul(version, 0x9e3779b1)) >>> 0 || 1;
}

/** Sizes vary by profile and version; every fifth profile is over 100 KB, so a batch spans many pages. */
export function blobSize(index, version) {
  const s = seedOf(index, version);
  return index % 5 === 0 ? 100_000 + (s % 100_000) : s % 20_000;
}

export function blobFor(index, version) {
  const out = new Uint8Array(blobSize(index, version));
  const words = new Uint32Array(out.buffer, 0, out.length >>> 2);
  let x = seedOf(index, version);
  for (let i = 0; i < words.length; i++) {
    // xorshift32
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  for (let i = words.length * 4; i < out.length; i++) out[i] = (x >>> (8 * (i & 3))) & 0xff;
  return out;
}

const STATES = ["training", "frozen", "normal"];

/** The full ProfileRecord that the child saves as `version` of profile `index`. */
export function recordFor(index, version) {
  return {
    key: keyOf(index),
    exe: `/usr/lib/crash-test/prog-${index}`,
    dev: 2049,
    ino: 1000 + index,
    model: "ph:L=9",
    state: STATES[(index + version) % 3],
    trainCount: version * 1000 + index,
    lastModCount: version,
    anomalies: (version * 7 + index) % 31,
    normalTime: version % 2 === 0 ? 1_700_000_000 + version : null,
    blob: blobFor(index, version),
  };
}
