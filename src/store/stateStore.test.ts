// Unit tests of the state store: every field round-trips, versions count saves, profiles are found by key, path
// or program name, and every way the database can be unusable (damaged blob, newer schema, not a database, no
// database, a directory that cannot be created or written) is one HomeostatError with a stable code that names
// the file or directory.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { crc32 } from "node:zlib";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { REPO_ROOT } from "../testing/paths.js";
import { type ProfileRecord, STATE_DB_NAME, STATE_SCHEMA_VERSION, StateStore, defaultStateDir } from "./stateStore.js";

const work = mkdtempSync(path.join(tmpdir(), "homeostat-store-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let dirs = 0;
function freshDir(): string {
  return path.join(work, `state-${++dirs}`);
}

function record(exe: string, ino: number, overrides: Partial<ProfileRecord> = {}): ProfileRecord {
  return {
    key: `${exe}@2049:${ino}`,
    exe,
    dev: 2049,
    ino,
    model: "ph:L=9",
    state: "training",
    trainCount: 100,
    lastModCount: 7,
    anomalies: 0,
    normalTime: null,
    blob: Uint8Array.from({ length: 64 }, (_, i) => (i * 31 + ino) & 0xff),
    ...overrides,
  };
}

/** Runs fn and returns the HomeostatError it throws (failing the test when it throws nothing or something else). */
function thrown(fn: () => unknown): HomeostatError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HomeostatError);
    return err as HomeostatError;
  }
  throw new Error("expected a HomeostatError, nothing was thrown");
}

describe("StateStore", () => {
  it("creates the directory (0700) and the database (0600) and round-trips every field", () => {
    const dir = freshDir();
    let clock = 1_700_000_000.5;
    const store = StateStore.open(dir, { now: () => clock });
    expect(store.path).toBe(path.join(dir, STATE_DB_NAME));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(store.path).mode & 0o777).toBe(0o600);

    const big = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7919) & 0xff);
    const a = record("/usr/sbin/sshd", 11, {
      state: "frozen",
      trainCount: 2 ** 40,
      lastModCount: 12345,
      anomalies: 3,
      normalTime: 1_700_604_800.25,
      blob: big,
    });
    const b = record("/usr/bin/ls", 12, { state: "normal", blob: new Uint8Array(0) });
    store.saveProfiles([a, b]);

    const got = store.loadProfile(a.key);
    expect(got).toBeDefined();
    const { blob, ...rest } = got!;
    expect(rest).toEqual({
      key: a.key,
      exe: a.exe,
      dev: 2049,
      ino: 11,
      model: "ph:L=9",
      state: "frozen",
      trainCount: 2 ** 40,
      lastModCount: 12345,
      anomalies: 3,
      normalTime: 1_700_604_800.25,
      version: 1,
      crc: crc32(big),
      createdAt: clock,
      updatedAt: clock,
    });
    expect(Buffer.compare(blob, big)).toBe(0);
    expect(store.loadProfile(b.key)?.blob.length).toBe(0);
    expect(store.loadProfile("/nope@1:1")).toBeUndefined();

    // A later save bumps the version and updatedAt, keeps createdAt, and replaces every other field.
    clock += 60;
    store.saveProfiles([{ ...a, state: "normal", anomalies: 4, normalTime: null, blob: new Uint8Array([1, 2, 3]) }]);
    const again = store.loadProfile(a.key)!;
    expect(again.version).toBe(2);
    expect(again.createdAt).toBe(1_700_000_000.5);
    expect(again.updatedAt).toBe(clock);
    expect(again.state).toBe("normal");
    expect(again.anomalies).toBe(4);
    expect(again.normalTime).toBeNull();
    expect(Array.from(again.blob)).toEqual([1, 2, 3]);
    expect(again.crc).toBe(crc32(new Uint8Array([1, 2, 3])));
    store.saveProfiles([a]);
    expect(store.loadProfile(a.key)!.version).toBe(3);
    expect(store.loadProfile(b.key)!.version).toBe(1);
    store.close();
    store.close(); // idempotent

    // The state outlives the process's handle.
    const reopened = StateStore.open(dir);
    expect(reopened.loadProfile(a.key)!.version).toBe(3);
    expect(reopened.counts()).toEqual({ profiles: 2, alerts: 0, actions: 0, staticModels: 0 });
    expect(reopened.integrityCheck()).toEqual(["ok"]);
    reopened.close();
  });

  it("lists summaries without blobs, ordered by exe, and loads all with their blobs", () => {
    const store = StateStore.open(freshDir());
    store.saveProfiles([record("/usr/bin/zsh", 3), record("/bin/bash", 2), record("/usr/bin/awk", 1)]);
    const list = store.listProfiles();
    expect(list.map((p) => p.exe)).toEqual(["/bin/bash", "/usr/bin/awk", "/usr/bin/zsh"]);
    for (const p of list) {
      expect(p).not.toHaveProperty("blob");
      expect(p.bytes).toBe(64);
      expect(p.version).toBe(1);
    }
    const all = store.loadAllProfiles();
    expect(all.map((p) => p.exe)).toEqual(["/bin/bash", "/usr/bin/awk", "/usr/bin/zsh"]);
    expect(all.every((p) => p.blob.length === 64 && crc32(p.blob) === p.crc)).toBe(true);
    store.close();
  });

  it("finds profiles by exact key, then exact exe path, then basename", () => {
    const store = StateStore.open(freshDir());
    const old = record("/usr/bin/ls", 100);
    const upgraded = record("/usr/bin/ls", 200);
    const other = record("/opt/bin/ls", 300);
    const sshd = record("/usr/sbin/sshd", 400);
    store.saveProfiles([old, upgraded, other, sshd]);

    expect(store.findProfiles(old.key).map((p) => p.key)).toEqual([old.key]);
    // Two versions of one binary share the path.
    expect(store.findProfiles("/usr/bin/ls").map((p) => p.key)).toEqual([old.key, upgraded.key]);
    expect(store.findProfiles("ls").map((p) => p.key)).toEqual([other.key, old.key, upgraded.key]);
    expect(store.findProfiles("sshd").map((p) => p.key)).toEqual([sshd.key]);
    expect(store.findProfiles("nothing")).toEqual([]);
    expect(store.findProfiles("/usr/bin")).toEqual([]);
    expect(store.findProfiles("bin/ls")).toEqual([]);
    store.close();
  });

  it("deletes a profile, and says whether there was one", () => {
    const store = StateStore.open(freshDir());
    const a = record("/usr/bin/ls", 1);
    store.saveProfiles([a, record("/usr/bin/cat", 2)]);
    expect(store.deleteProfile(a.key)).toBe(true);
    expect(store.deleteProfile(a.key)).toBe(false);
    expect(store.loadProfile(a.key)).toBeUndefined();
    expect(store.counts().profiles).toBe(1);
    // A deleted profile starts again at version 1.
    store.saveProfiles([a]);
    expect(store.loadProfile(a.key)!.version).toBe(1);
    store.close();
  });

  it("stores alerts and actions, and returns the most recent first", () => {
    const store = StateStore.open(freshDir());
    store.addAlerts([
      {
        time: 10,
        rule: "ph-anomaly",
        priority: "WARNING",
        pid: 42,
        exe: "/usr/bin/ls",
        key: "k1",
        output: "one",
        json: { n: 1 },
      },
      {
        time: 11,
        rule: "ph-anomaly",
        priority: "CRITICAL",
        pid: null,
        exe: null,
        key: null,
        output: "two",
        json: [1, "x"],
      },
    ]);
    store.addAlerts([
      {
        time: 12.5,
        rule: "tolerize",
        priority: "NOTICE",
        pid: 7,
        exe: "/bin/sh",
        key: "k2",
        output: "three",
        json: undefined,
      },
    ]);
    store.addAlerts([]);
    const alerts = store.recentAlerts(10);
    expect(alerts.map((a) => a.output)).toEqual(["three", "two", "one"]);
    expect(alerts[0]!.id).toBeGreaterThan(alerts[1]!.id);
    expect(alerts[0]).toMatchObject({ time: 12.5, rule: "tolerize", priority: "NOTICE", pid: 7, json: null });
    expect(alerts[1]).toMatchObject({ pid: null, exe: null, key: null, json: [1, "x"] });
    expect(alerts[2]).toMatchObject({ time: 10, pid: 42, exe: "/usr/bin/ls", key: "k1", json: { n: 1 } });
    expect(store.recentAlerts(2).map((a) => a.output)).toEqual(["three", "two"]);
    expect(store.recentAlerts(0)).toEqual([]);
    expect(thrown(() => store.recentAlerts(-1)).code).toBe("E_USAGE");

    store.addActions([
      { time: 20, pid: 42, exe: "/usr/bin/ls", action: "delay", outcome: "done", reason: "LFC 3", json: { ms: 80 } },
      { time: 21, pid: 43, exe: null, action: "delay", outcome: "refused", reason: "init", json: { pid: 1 } },
    ]);
    const actions = store.recentActions(5);
    expect(actions.map((a) => a.pid)).toEqual([43, 42]);
    expect(actions[1]).toMatchObject({
      time: 20,
      exe: "/usr/bin/ls",
      action: "delay",
      outcome: "done",
      reason: "LFC 3",
      json: { ms: 80 },
    });
    expect(store.counts()).toEqual({ profiles: 0, alerts: 3, actions: 2, staticModels: 0 });
    store.close();
  });

  it("saves a batch all or nothing: a record the schema refuses rolls back the whole batch", () => {
    const store = StateStore.open(freshDir());
    const a = record("/usr/bin/ls", 1);
    store.saveProfiles([a]);
    const broken = { ...record("/usr/bin/cat", 2), model: null as unknown as string };
    const err = thrown(() => store.saveProfiles([{ ...a, anomalies: 9 }, record("/usr/bin/env", 3), broken]));
    expect(err.code).toBe("E_USAGE");
    expect(store.loadProfile(a.key)).toMatchObject({ version: 1, anomalies: 0 });
    expect(store.counts().profiles).toBe(1);
    expect(thrown(() => store.saveProfiles([{ ...a, state: "weird" as "normal" }])).code).toBe("E_USAGE");
    store.close();
  });

  it("refuses a model blob whose CRC does not match (E_CHECKSUM naming the key and the file)", () => {
    const dir = freshDir();
    const store = StateStore.open(dir);
    const a = record("/usr/sbin/sshd", 9);
    store.saveProfiles([a, record("/usr/bin/ls", 10)]);
    store.close();

    // Damage one byte of the blob behind the store's back, as a bad sector would, leaving the stored CRC.
    const raw = new Database(path.join(dir, STATE_DB_NAME));
    const blob = Buffer.from(a.blob);
    blob[17] = blob[17]! ^ 0x40;
    raw.prepare("UPDATE profiles SET blob = ? WHERE key = ?").run(blob, a.key);
    raw.close();

    const damaged = StateStore.open(dir, { readonly: true });
    for (const load of [() => damaged.loadProfile(a.key), () => damaged.loadAllProfiles()]) {
      const err = thrown(load);
      expect(err.code).toBe("E_CHECKSUM");
      expect(err.message).toContain(a.key);
      expect(err.location.file).toBe(damaged.path);
      expect(err.oneLine()).toContain(path.join(dir, STATE_DB_NAME));
    }
    // The intact profile still loads, and listing does not read blobs.
    expect(damaged.loadProfile(record("/usr/bin/ls", 10).key)?.version).toBe(1);
    expect(damaged.listProfiles()).toHaveLength(2);
    damaged.close();
  });

  it("refuses a database from a newer build (E_VERSION naming the file), writable or read-only", () => {
    const dir = freshDir();
    StateStore.open(dir).close();
    const raw = new Database(path.join(dir, STATE_DB_NAME));
    raw.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(STATE_SCHEMA_VERSION + 1));
    raw.close();
    for (const readonly of [false, true]) {
      const err = thrown(() => StateStore.open(dir, { readonly }));
      expect(err.code).toBe("E_VERSION");
      expect(err.message).toContain(
        `schema version ${STATE_SCHEMA_VERSION + 1} is newer than this build reads (${STATE_SCHEMA_VERSION})`,
      );
      expect(err.location.file).toBe(path.join(dir, STATE_DB_NAME));
    }
  });

  it("reports a file that is not a SQLite database as one E_CHECKSUM error naming it", () => {
    const dir = freshDir();
    mkdirSync(dir);
    const file = path.join(dir, STATE_DB_NAME);
    writeFileSync(file, "this is not a database, it is a shopping list\n".repeat(200));
    for (const readonly of [false, true]) {
      const err = thrown(() => StateStore.open(dir, { readonly }));
      expect(err.code).toBe("E_CHECKSUM");
      expect(err.message).toMatch(/not a SQLite database/);
      expect(err.location.file).toBe(file);
      expect(err.oneLine().split("\n")).toHaveLength(1);
    }
  });

  it("refuses a SQLite database that some other program made (E_FORMAT)", () => {
    const dir = freshDir();
    mkdirSync(dir);
    const raw = new Database(path.join(dir, STATE_DB_NAME));
    raw.exec("CREATE TABLE recipes (name TEXT)");
    raw.close();
    const err = thrown(() => StateStore.open(dir));
    expect(err.code).toBe("E_FORMAT");
    expect(err.location.file).toBe(path.join(dir, STATE_DB_NAME));
  });

  it("opens read-only without creating anything, and reads beside a writer", () => {
    const dir = freshDir();
    const missing = thrown(() => StateStore.open(dir, { readonly: true }));
    expect(missing.code).toBe("E_NOT_FOUND");
    expect(missing.location.file).toBe(path.join(dir, STATE_DB_NAME));
    expect(existsSync(dir)).toBe(false);

    const writer = StateStore.open(dir);
    const a = record("/usr/bin/ls", 1);
    writer.saveProfiles([a]);
    const reader = StateStore.open(dir, { readonly: true });
    expect(reader.loadProfile(a.key)?.version).toBe(1);
    writer.saveProfiles([a]);
    expect(reader.loadProfile(a.key)?.version).toBe(2);
    const refused = thrown(() => reader.saveProfiles([a]));
    expect(refused.code).toBe("E_PERMISSION");
    expect(refused.location.file).toBe(reader.path);
    reader.close();
    writer.close();
  });

  it("reports a state directory that cannot be created as E_PERMISSION naming it (its parent is a file)", () => {
    // Tests run as root, which ignores permission bits; a path under a regular file fails for root too (ENOTDIR).
    const file = path.join(work, "a-file");
    writeFileSync(file, "x");
    for (const dir of [path.join(file, "state"), file]) {
      const err = thrown(() => StateStore.open(dir));
      expect(err.code).toBe("E_PERMISSION");
      expect(err.message).toMatch(/cannot create the state directory/);
      expect(err.location.file).toBe(dir);
    }
  });

  const isRoot = process.getuid?.() === 0;
  it.skipIf(isRoot)("reports a directory without write permission as E_PERMISSION (not root: chmod)", () => {
    const parent = freshDir();
    mkdirSync(parent, { mode: 0o500 });
    const nested = thrown(() => StateStore.open(path.join(parent, "state")));
    expect(nested.code).toBe("E_PERMISSION");
    const existing = thrown(() => StateStore.open(parent));
    expect(existing.code).toBe("E_PERMISSION");
    expect(existing.message).toMatch(/cannot write in the state directory/);
    expect(existing.location.file).toBe(parent);
    chmodSync(parent, 0o700);
  });

  // As root the same check runs in a child dropped to nobody, against the built store (npm test builds first).
  const built = path.join(REPO_ROOT, "dist/store/index.js");
  const canDrop = isRoot && existsSync("/usr/bin/setpriv") && existsSync(built);
  if (isRoot && !canDrop) {
    console.log(`skipped: the permission-bit test as root needs /usr/bin/setpriv and ${built}`);
  }
  it.skipIf(!canDrop)("reports an unwritable directory as E_PERMISSION (root: as nobody, via setpriv)", () => {
    const parent = freshDir();
    mkdirSync(parent, { mode: 0o755 }); // owned by root: nobody may enter it but not write in it
    chmodSync(work, 0o755);
    const script = `
      import { StateStore } from ${JSON.stringify(built)};
      const out = [];
      for (const dir of process.argv.slice(1)) {
        try { StateStore.open(dir).close(); out.push({ dir, code: "opened" }); }
        catch (err) { out.push({ dir, code: err.code, file: err.location?.file, message: err.message }); }
      }
      process.stdout.write(JSON.stringify(out));`;
    const r = spawnSync(
      "/usr/bin/setpriv",
      [
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        process.execPath,
        "--input-type=module",
        "-e",
        script,
        path.join(parent, "state"),
        parent,
      ],
      { encoding: "utf8", timeout: 30_000 },
    );
    expect(r.stderr).toBe("");
    const results = JSON.parse(r.stdout) as { dir: string; code: string; file?: string; message: string }[];
    expect(results).toEqual([
      expect.objectContaining({ code: "E_PERMISSION", file: path.join(parent, "state") }),
      expect.objectContaining({
        code: "E_PERMISSION",
        file: parent,
        message: expect.stringMatching(/cannot write in the state directory/),
      }),
    ]);
    expect(readdirSync(parent)).toEqual([]);
  });
});

describe("StateStore: static models", () => {
  const model = (key: string, syscalls: number[], complete = true) => ({
    key,
    exe: key.slice(0, key.indexOf("@")),
    complete,
    syscalls,
    detail: { names: syscalls.map((n) => `call${n}`), files: [{ path: "/usr/bin/true", ino: 3 }] },
  });

  it("round-trips, replaces a newer analysis, and goes with the profile when it is deleted", () => {
    const dir = freshDir();
    let clock = 1_700_000_000;
    const store = StateStore.open(dir, { now: () => clock });
    const p = record("/usr/bin/true", 3);
    store.saveProfiles([p]);
    store.saveStaticModels([model(p.key, [0, 1, 231], false), model("/usr/bin/other@1:2", [60])]);
    expect(store.loadStaticModel(p.key)).toMatchObject({
      key: p.key,
      exe: "/usr/bin/true",
      complete: false,
      syscalls: [0, 1, 231],
      analysedAt: clock,
    });
    expect((store.loadStaticModel(p.key)!.detail as { names: string[] }).names).toEqual(["call0", "call1", "call231"]);
    clock += 10;
    store.saveStaticModels([model(p.key, [0, 231])]);
    expect(store.loadStaticModel(p.key)).toMatchObject({ complete: true, syscalls: [0, 231], analysedAt: clock });
    expect(store.counts().staticModels).toBe(2);
    // Administering the profile leaves the model alone; deleting the profile deletes it.
    store.saveProfiles([{ ...p, state: "normal" }]);
    expect(store.loadStaticModel(p.key)).toBeDefined();
    expect(store.deleteProfile(p.key)).toBe(true);
    expect(store.loadStaticModel(p.key)).toBeUndefined();
    expect(store.loadStaticModel("/usr/bin/other@1:2")?.syscalls).toEqual([60]);
    expect(thrown(() => store.saveStaticModels([model("", [1])])).code).toBe("E_USAGE");
    expect(thrown(() => store.saveStaticModels([model("/x@1:1", [-1])])).code).toBe("E_USAGE");
    store.close();
  });

  it("refuses a damaged static model row (E_CHECKSUM naming the key), other rows unaffected", () => {
    const dir = freshDir();
    const store = StateStore.open(dir);
    store.saveStaticModels([model("/usr/bin/a@1:1", [0, 1]), model("/usr/bin/b@1:2", [2])]);
    store.close();
    const raw = new Database(path.join(dir, STATE_DB_NAME));
    raw.prepare("UPDATE static_models SET syscalls = '[0,1,59]' WHERE key = ?").run("/usr/bin/a@1:1");
    raw.close();
    const again = StateStore.open(dir, { readonly: true });
    const err = thrown(() => again.loadStaticModel("/usr/bin/a@1:1"));
    expect(err.code).toBe("E_CHECKSUM");
    expect(err.message).toContain("/usr/bin/a@1:1");
    expect(again.loadStaticModel("/usr/bin/b@1:2")?.syscalls).toEqual([2]);
    again.close();
  });

  it("migrates a version 1 database when opened for writing, keeping its rows; read-only, it reads it as it is", () => {
    const dir = freshDir();
    const store = StateStore.open(dir);
    const p = record("/usr/bin/true", 3);
    store.saveProfiles([p]);
    store.addAlerts([{ time: 1, rule: "r", priority: "Warning", pid: 1, exe: null, key: null, output: "o", json: {} }]);
    store.close();
    // Back to schema 1, as a build before static models left it.
    const raw = new Database(path.join(dir, STATE_DB_NAME));
    raw.exec("DROP TABLE static_models; UPDATE meta SET value = '1' WHERE key = 'schema_version'");
    raw.close();

    const reader = StateStore.open(dir, { readonly: true });
    expect(reader.schemaVersion).toBe(1);
    expect(reader.loadStaticModel(p.key)).toBeUndefined();
    expect(reader.counts()).toEqual({ profiles: 1, alerts: 1, actions: 0, staticModels: 0 });
    reader.close();

    const writer = StateStore.open(dir);
    expect(writer.schemaVersion).toBe(STATE_SCHEMA_VERSION);
    expect(writer.loadProfile(p.key)?.version).toBe(1);
    expect(writer.recentAlerts(10)).toHaveLength(1);
    writer.saveStaticModels([model(p.key, [231])]);
    expect(writer.loadStaticModel(p.key)?.syscalls).toEqual([231]);
    expect(writer.integrityCheck()).toEqual(["ok"]);
    writer.close();
    const check = new Database(path.join(dir, STATE_DB_NAME), { readonly: true });
    expect(
      (check.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value,
    ).toBe(String(STATE_SCHEMA_VERSION));
    check.close();
  });
});

describe("defaultStateDir", () => {
  it("uses $XDG_STATE_HOME when it is an absolute path, else ~/.local/state", () => {
    expect(defaultStateDir({ XDG_STATE_HOME: "/var/lib/x", HOME: "/home/ann" })).toBe("/var/lib/x/homeostat");
    expect(defaultStateDir({ HOME: "/home/ann" })).toBe("/home/ann/.local/state/homeostat");
    expect(defaultStateDir({ XDG_STATE_HOME: "", HOME: "/home/ann" })).toBe("/home/ann/.local/state/homeostat");
    // The XDG spec: a relative path in the variable is invalid and ignored.
    expect(defaultStateDir({ XDG_STATE_HOME: "relative/state", HOME: "/home/someone" })).toBe(
      "/home/someone/.local/state/homeostat",
    );
    expect(path.isAbsolute(defaultStateDir({}))).toBe(true);
  });
});

describe("StateStore.saveProfiles with expected versions", () => {
  it("skips, and names, a record whose stored version moved on; writes the others", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "homeostat-store-cas-"));
    try {
      const store = StateStore.open(dir);
      const rec = (key: string) => ({
        key,
        exe: `/usr/bin/${key}`,
        dev: 1,
        ino: 2,
        model: "ph:L=9",
        state: "training" as const,
        trainCount: 1,
        lastModCount: 0,
        anomalies: 0,
        normalTime: null,
        blob: new Uint8Array([1, 2, 3]),
      });
      expect(
        store.saveProfiles([
          { ...rec("a"), expectVersion: 0 },
          { ...rec("b"), expectVersion: 0 },
        ]),
      ).toEqual([]);
      store.saveProfiles([rec("a")]); // someone else: a is now at version 2
      expect(
        store.saveProfiles([
          { ...rec("a"), expectVersion: 1 },
          { ...rec("b"), expectVersion: 1 },
        ]),
      ).toEqual(["a"]);
      expect(store.loadProfile("a")!.version).toBe(2);
      expect(store.loadProfile("b")!.version).toBe(2);
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("StateStore.prune", () => {
  it("keeps the newest alerts and actions and deletes the rest", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "homeostat-store-prune-"));
    try {
      const store = StateStore.open(dir);
      const alert = (i: number) => ({
        time: i,
        rule: `r${i}`,
        priority: "Warning",
        pid: i,
        exe: null,
        key: null,
        output: `a${i}`,
        json: {},
      });
      store.addAlerts([1, 2, 3, 4, 5].map(alert));
      store.addActions(
        [1, 2, 3].map((i) => ({
          time: i,
          pid: i,
          exe: null,
          action: "delay",
          outcome: "paused",
          reason: "r",
          json: {},
        })),
      );
      expect(store.prune(2)).toEqual({ alerts: 3, actions: 1 });
      expect(store.recentAlerts(10).map((a) => a.rule)).toEqual(["r5", "r4"]);
      expect(store.prune(2)).toEqual({ alerts: 0, actions: 0 });
      expect(store.counts()).toEqual({ profiles: 0, alerts: 2, actions: 2, staticModels: 0 });
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(process.getuid?.() !== 0 || spawnSync("setpriv", ["--version"]).status !== 0)(
  "a reader who may read the database but not write its directory",
  () => {
    const built = path.join(REPO_ROOT, "dist", "store", "stateStore.js");
    /** Lists the profiles as user nobody (uid 65534), in a child: what `homeostat profiles list` does. */
    const listAsNobody = (dir: string) => {
      const script = `import(${JSON.stringify(built)}).then(({ StateStore }) => {
      try { const s = StateStore.open(process.argv[1], { readonly: true }); console.log(JSON.stringify(s.listProfiles().map((p) => p.exe))); s.close(); }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); } });`;
      const r = spawnSync(
        "setpriv",
        ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "-e", script, dir],
        { encoding: "utf8" },
      );
      return JSON.parse(r.stdout) as unknown;
    };

    it.skipIf(!existsSync(built))("reads the database whether a writer runs or not, creating nothing", () => {
      const dir = freshDir();
      const store = StateStore.open(dir);
      store.saveProfiles([record("/usr/bin/ls", 11)]);
      store.close();
      chmodSync(work, 0o711); // mkdtemp's 0700 would keep nobody out of every path below it
      chmodSync(dir, 0o755);
      chmodSync(path.join(dir, STATE_DB_NAME), 0o644);
      expect(listAsNobody(dir)).toEqual(["/usr/bin/ls"]);
      expect(readdirSync(dir).sort()).toEqual([STATE_DB_NAME]); // nothing created beside it
      // While a writer runs, its -wal and -shm files exist (with the database's mode): the reader reads in place and
      // sees the pages the writer has not checkpointed yet.
      const writer = StateStore.open(dir);
      writer.saveProfiles([record("/usr/bin/cat", 12)]);
      const during = listAsNobody(dir);
      writer.close();
      expect(during).toEqual(["/usr/bin/cat", "/usr/bin/ls"]);
    });
  },
);
