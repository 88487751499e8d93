// A host's profiles in the fleet with --fleet-profiles pull, against a real nats-server and a real host monitor: a
// new profile starts from its program's pooled snapshot even when the watch saved it (which gives it a stored
// version) while its file was still being identified, as happens to a large binary hashed just before a save; its
// snapshots name the pooled profile they started from (so that the pool leaves them out), after a restart too, and
// no longer once its training is emptied.

import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { afterEach, describe, expect, it } from "vitest";
import { type ExeIdentity, exeKey } from "../capture/hostEvents.js";
import { HostMonitor } from "../engine/hostMonitor.js";
import { HOST_SYMBOLS } from "../engine/staticCheck.js";
import { PhProfile } from "../lifecycle/phProfile.js";
import { FleetLink } from "./fleetLink.js";
import { POOLED_BUCKET, POOL_HOST, PROFILES_BUCKET, profileKey } from "./fleetNames.js";
import { FleetProfiles } from "./fleetProfiles.js";
import { ensureBucket } from "./fleetSetup.js";
import { planFleetConnection } from "./natsOptions.js";
import { decodeSnapshot, encodeSnapshot, type PoolBase } from "./profileSnapshot.js";
import { profileRecord } from "../watch/storedProfiles.js";
import { ProgramIdentities } from "./programIdentity.js";
import { waitFor } from "./testing/fleetTesting.js";
import { natsServerUnavailableReason, startNatsServer } from "./testing/natsServer.js";

const unavailable = natsServerUnavailableReason();
if (unavailable !== undefined) console.log(`skipping the fleet profiles tests: ${unavailable}`);

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const EXE: ExeIdentity = { path: "/opt/big/server", dev: 2049, ino: 77 };
const PROGRAM = "b-0123456789abcdef";

/** Identities that answer only once released: a file still being hashed. */
class HeldIdentities extends ProgramIdentities {
  release: () => void = () => {};
  private readonly held = new Promise<void>((resolve) => (this.release = resolve));

  override async identify(): Promise<string> {
    await this.held;
    return PROGRAM;
  }
}

/** A link to `url` whose sessions `profiles` gets, connected (closed after the test). */
async function linked(profiles: FleetProfiles, url: string): Promise<FleetLink> {
  const link = new FleetLink({
    plan: planFleetConnection({ url }),
    onUp: (s) => profiles.up(s),
    onDown: () => profiles.down(),
  });
  link.start();
  cleanups.push(() => link.close());
  await waitFor(() => link.stats.connected, "the fleet link");
  return link;
}

/** A normal pH profile of the host's vocabulary, as the pool would publish it. */
function normalProfile(): PhProfile {
  const p = new PhProfile(HOST_SYMBOLS);
  const s = p.newStream();
  for (let i = 0; i < 60; i++) p.step(s, [0, 1, 3][i % 3]!, 1000);
  p.normalize();
  return p;
}

describe.skipIf(unavailable !== undefined)("FleetProfiles with pull", () => {
  it("asks the pool for a new profile saved while its program was being identified", { timeout: 120_000 }, async () => {
    const server = await startNatsServer();
    cleanups.push(() => server.cleanup());
    const nc = await connect({ servers: server.url });
    cleanups.push(() => nc.close());
    const pooled = normalProfile();
    const header = {
      v: 1 as const,
      host: POOL_HOST,
      program: PROGRAM,
      path: EXE.path,
      model: pooled.model,
      state: pooled.state,
      trainCount: pooled.trainCount,
      version: 1,
      time: Date.now(),
    };
    await (await ensureBucket(new Kvm(nc), POOLED_BUCKET))!.put(PROGRAM, encodeSnapshot(header, pooled.serialize()));

    const identities = new HeldIdentities();
    const profiles = new FleetProfiles({ host: "h1", identities, pull: true });
    const monitor = new HostMonitor({ identify: () => EXE, onProfileAdded: (e) => profiles.added(e) });
    profiles.attach(monitor);
    const link = await linked(profiles, server.url);

    monitor.syscall(100, 100, 0, 1000);
    const entry = monitor.profile(exeKey(EXE))!;
    expect(entry.storedVersion).toBe(0);
    // The watch's save (profileSaver.ts) comes first: the new profile is in the store, version 1.
    entry.storedVersion = 1;
    entry.dirty = false;
    identities.release();
    await profiles.settle();

    expect(profiles.stats.pulled).toBe(1);
    const now = monitor.profile(entry.key)!;
    expect(now.profile.state).toBe("normal");
    expect(now.profile.trainCount).toBe(pooled.trainCount);
    // Saved as this host's own at the next save, over the version the store has.
    expect(now.dirty).toBe(true);
    expect(now.storedVersion).toBe(1);

    // Its snapshots say which pooled profile it started from.
    const bucket = (await ensureBucket(new Kvm(nc), PROFILES_BUCKET))!;
    const baseInBucket = async (): Promise<PoolBase | undefined> =>
      decodeSnapshot((await bucket.get(profileKey(PROGRAM, "h1")))!.value).header.base;
    const save = async (p: FleetProfiles, e: typeof now, version: number) => {
      p.saved([{ entry: e, record: profileRecord(e.key, EXE, e.profile), version }]);
      await p.settle();
    };
    await save(profiles, now, 2);
    expect(await baseInBucket()).toEqual({ version: 1, trainCount: pooled.trainCount });

    // A restarted watch loads the profile from its store, and reads the base back from its previous snapshot.
    const known = new HeldIdentities();
    known.release();
    const again = new FleetProfiles({ host: "h1", identities: known, pull: true });
    const restarted = new HostMonitor({
      identify: () => EXE,
      loadProfile: () => ({ profile: now.profile, version: 2 }),
      onProfileAdded: (e) => again.added(e),
    });
    again.attach(restarted);
    again.up(link.current!);
    restarted.syscall(101, 101, 0, 2000);
    const loaded = restarted.profile(entry.key)!;
    expect(loaded.storedVersion).toBe(2);
    await save(again, loaded, 3);
    expect(again.stats.snapshotsPut).toBe(1);
    expect(await baseInBucket()).toEqual({ version: 1, trainCount: pooled.trainCount });

    // A reset empties what it took from the pool: its snapshots are its own again.
    loaded.profile.reset();
    await save(again, loaded, 4);
    expect(await baseInBucket()).toBeUndefined();
  });
});

/** A host's FleetProfiles linked to `url` (the link closed after the test), and the messages it gave. */
async function linkedProfiles(url: string) {
  const messages: string[] = [];
  const identities = new HeldIdentities();
  identities.release();
  const profiles = new FleetProfiles({ host: "h1", identities, pull: false, onMessage: (m) => messages.push(m) });
  const monitor = new HostMonitor({ identify: () => EXE });
  profiles.attach(monitor);
  await linked(profiles, url);
  monitor.syscall(100, 100, 0, 1000);
  const entry = monitor.profile(exeKey(EXE))!;
  const save = async (p: PhProfile, version: number) => {
    profiles.saved([{ entry, record: profileRecord(entry.key, EXE, p), version }]);
    await profiles.settle();
  };
  return { profiles, messages, save };
}

/** A pH profile whose blob is at least `bytes` long: random calls of the host's vocabulary. */
function largeProfile(bytes: number): PhProfile {
  const p = new PhProfile(HOST_SYMBOLS);
  const s = p.newStream();
  let x = 1;
  while (p.serialize().length < bytes) {
    for (let i = 0; i < 1000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      p.step(s, (x >>> 16) % 300, 1000);
    }
  }
  return p;
}

describe.skipIf(unavailable !== undefined)("FleetProfiles and what the server refuses", () => {
  it(
    "puts no snapshot larger than the server's max_payload, says so once, and puts the next that fits",
    { timeout: 120_000 },
    async () => {
      const server = await startNatsServer({ extraConfig: "max_payload: 8192" });
      cleanups.push(() => server.cleanup());
      const { profiles, messages, save } = await linkedProfiles(server.url);
      const big = largeProfile(9000);
      await save(big, 1);
      await save(big, 2);
      expect(profiles.stats).toMatchObject({ snapshotsPut: 0, snapshotFailures: 0, snapshotsTooLarge: 2 });
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatch(/\/opt\/big\/server \(\d+ bytes\) is larger than .*\(max_payload 8192 bytes\)/);
      // A profile that fits again (after a reset, say) is put as usual.
      await save(normalProfile(), 3);
      expect(profiles.stats).toMatchObject({ snapshotsPut: 1, snapshotsTooLarge: 2, snapshotsWaiting: 0 });
      const nc = await connect({ servers: server.url });
      cleanups.push(() => nc.close());
      const bucket = (await ensureBucket(new Kvm(nc), PROFILES_BUCKET))!;
      expect(decodeSnapshot((await bucket.get(profileKey(PROGRAM, "h1")))!.value).header.version).toBe(3);
    },
  );

  it(
    "keeps a snapshot the server refused for the next save, without trying again at once",
    { timeout: 120_000 },
    async () => {
      // A host allowed everything but puts in the profiles bucket.
      const server = await startNatsServer({
        extraConfig: `authorization { users: [ { user: h, password: p, permissions: {
        publish: { allow: [">"], deny: ["$KV.${PROFILES_BUCKET}.>"] }, subscribe: { allow: [">"] } } } ] }`,
      });
      cleanups.push(() => server.cleanup());
      const { profiles, save } = await linkedProfiles(server.url.replace("nats://", "nats://h:p@"));
      await save(normalProfile(), 1);
      expect(profiles.stats).toMatchObject({ snapshotsPut: 0, snapshotFailures: 1, snapshotsWaiting: 1 });
    },
  );
});
