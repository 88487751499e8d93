// The victim of the crash-safety test: opens the store in the directory given as its argument and saves batches
// of every workload profile at the next version, in a tight loop, until the parent SIGKILLs it. It says "begin v"
// before each save and "commit v" after (stdout to a pipe is synchronous on Linux, so the parent reads every line
// written before the kill), which lets the parent tell a kill mid-batch from one between batches.
// It imports the BUILT store (dist/), since this folder is not compiled and node runs it as it is.
import { StateStore } from "../../../dist/store/index.js";
import { PROFILE_COUNT, keyOf, recordFor } from "./crashWorkload.mjs";

const dir = process.argv[2];
if (dir === undefined) throw new Error("usage: crashChild.mjs <state dir>");
const store = StateStore.open(dir);
const versions = new Set();
for (let i = 0; i < PROFILE_COUNT; i++) versions.add(store.loadProfile(keyOf(i))?.version ?? 0);
if (versions.size !== 1) throw new Error(`profiles are at mixed versions ${[...versions].join(", ")}`);
let version = [...versions][0];
process.stdout.write(`ready ${version}\n`);
for (;;) {
  version++;
  const batch = [];
  for (let i = 0; i < PROFILE_COUNT; i++) batch.push(recordFor(i, version));
  process.stdout.write(`begin ${version}\n`);
  store.saveProfiles(batch);
  process.stdout.write(`commit ${version}\n`);
}
