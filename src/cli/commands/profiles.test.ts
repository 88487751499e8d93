import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { HOST_SYMBOLS } from "../../engine/hostMonitor.js";
import { profileRecord } from "../../watch/hostWatch.js";
import { PhProfile } from "../../lifecycle/phProfile.js";
import { syscallTable } from "../../syscalls/abi.js";
import { StateStore } from "../../store/stateStore.js";
import { BIN } from "../../testing/paths.js";

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const nr = (name: string) => syscallTable("x86_64").numberOf(name)!;
const CALLS = ["openat", "read", "write", "close", "exit_group"].map(nr);

/** A state folder with two profiles made through the library: /usr/bin/true normal, /usr/bin/false training. */
function makeState(dir: string): void {
  const store = StateStore.open(dir);
  const normal = new PhProfile(HOST_SYMBOLS);
  const s = normal.newStream();
  for (let i = 0; i < 50; i++) normal.step(s, CALLS[i % CALLS.length]!, i);
  normal.normalize();
  const training = new PhProfile(HOST_SYMBOLS);
  training.step(training.newStream(), nr("read"), 0);
  store.saveProfiles([
    profileRecord("/usr/bin/true@1:2", { path: "/usr/bin/true", dev: 1, ino: 2 }, normal),
    profileRecord("/usr/bin/false@1:3", { path: "/usr/bin/false", dev: 1, ino: 3 }, training),
  ]);
  store.close();
}

describe("homeostat profiles", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-profiles-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const state = join(dir, "state");
  makeState(state);

  it("list and show, as a table and as JSON", () => {
    const list = run(["profiles", "list", "--state", state]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/\/usr\/bin\/true\s+normal/);
    expect(list.stdout).toMatch(/\/usr\/bin\/false\s+training/);
    const json = JSON.parse(run(["profiles", "list", "--json", "--state", state]).stdout) as {
      key: string;
      state: string;
    }[];
    expect(json.map((p) => [p.key, p.state]).sort()).toEqual([
      ["/usr/bin/false@1:3", "training"],
      ["/usr/bin/true@1:2", "normal"],
    ]);
    const show = JSON.parse(run(["profiles", "show", "true", "--json", "--state", state]).stdout) as {
      syscalls: string[];
      normalModelSize: number;
      modelUnit: string;
    };
    expect(show.syscalls).toEqual(["read", "write", "close", "exit_group", "openat"]); // by number
    expect(show.normalModelSize).toBeGreaterThan(0);
    expect(show.modelUnit).toBe("lookahead pairs");
    expect(run(["profiles", "show", "/usr/bin/true", "--state", state]).stdout).toMatch(/state\s+normal/);
  });

  it("normalize, tolerize, sensitize and reset change the stored profile as pH-admin does", () => {
    const st = (sel: string) =>
      JSON.parse(run(["profiles", "show", sel, "--json", "--state", state]).stdout) as {
        state: string;
        trainCount: number;
        version: number;
      };
    const v0 = st("false").version;
    expect(run(["profiles", "normalize", "false", "--state", state]).stdout).toBe(
      "normalize: /usr/bin/false@1:3: training -> normal\n",
    );
    expect(st("false").state).toBe("normal");
    expect(st("false").version).toBe(v0 + 1);
    expect(run(["profiles", "tolerize", "false", "--state", state]).code).toBe(0);
    expect(st("false").state).toBe("training");
    expect(st("false").trainCount).toBe(1); // tolerize keeps the training data
    expect(run(["profiles", "sensitize", "false", "--state", state]).code).toBe(0);
    expect(st("false").trainCount).toBe(0); // sensitize forgets it
    const reset = JSON.parse(run(["profiles", "reset", "true", "--json", "--state", state]).stdout) as {
      before: string;
      after: string;
    }[];
    expect(reset).toEqual([{ key: "/usr/bin/true@1:2", operation: "reset", before: "normal", after: "training" }]);
    makeState(state); // back to the original profiles (new versions)
  });

  it("export writes a seccomp allow-list of a normal profile's calls; a training profile needs --training", () => {
    const r = run(["profiles", "export", "true", "--state", state]);
    expect(r.code).toBe(0);
    const policy = JSON.parse(r.stdout) as { defaultAction: string; syscalls: { names: string[] }[] };
    expect(policy.defaultAction).toBe("SCMP_ACT_ERRNO");
    expect(policy.syscalls[0]!.names).toEqual(["close", "exit_group", "openat", "read", "write"]);
    const out = join(dir, "policy.json");
    expect(run(["profiles", "export", "true", "--mode", "log", "-o", out, "--state", state]).code).toBe(0);
    expect((JSON.parse(readFileSync(out, "utf8")) as { defaultAction: string }).defaultAction).toBe("SCMP_ACT_LOG");
    const refused = run(["profiles", "export", "false", "--state", state]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/is training, not normal.*--training/);
    expect(run(["profiles", "export", "false", "--training", "--state", state]).code).toBe(0);
  });

  it("bad input: one line, exit 2 (an unusable state folder: 3), nothing lost", () => {
    const before = readFileSync(join(state, "homeostat.db"));
    const unknown = run(["profiles", "show", "nosuch", "--state", state]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split("\n")).toHaveLength(1);
    expect(unknown.stderr).toMatch(/E_NOT_FOUND.*no profile matches "nosuch"/);
    const missing = run(["profiles", "list", "--state", join(dir, "none")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/E_NOT_FOUND/);
    const notDir = join(dir, "a-file");
    writeFileSync(notDir, "x");
    const unwritable = run(["profiles", "normalize", "true", "--state", join(notDir, "state")]);
    expect(unwritable.code).toBe(3);
    expect(unwritable.stderr).toMatch(/E_PERMISSION/);
    expect(readFileSync(join(state, "homeostat.db")).equals(before)).toBe(true);
  });

  it("a corrupt profile blob is reported by name, and the other profiles stay usable", () => {
    const copy = join(dir, "corrupt");
    makeState(copy);
    const db = new Database(join(copy, "homeostat.db"));
    const row = db.prepare("SELECT blob FROM profiles WHERE key = ?").get("/usr/bin/true@1:2") as { blob: Buffer };
    row.blob[10] = row.blob[10]! ^ 0xff;
    db.prepare("UPDATE profiles SET blob = ? WHERE key = ?").run(row.blob, "/usr/bin/true@1:2");
    db.close();
    const r = run(["profiles", "show", "true", "--state", copy]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/E_CHECKSUM.*\/usr\/bin\/true@1:2/);
    expect(run(["profiles", "show", "false", "--state", copy]).code).toBe(0);
    const n = run(["profiles", "normalize", "true", "--state", copy]);
    expect(n.code).toBe(2); // refused: the damaged profile is not overwritten
    expect(run(["profiles", "list", "--state", copy]).code).toBe(0);
  });

  it("show puts the binary's static model beside what was learned: the calls it can make but was never seen making", () => {
    const withStatic = join(dir, "static");
    makeState(withStatic);
    const store = StateStore.open(withStatic);
    // /usr/bin/true learned openat read write close exit_group; its binary can make these, and more.
    const can = ["read", "write", "close", "mmap", "openat", "exit_group", "getrandom"].map(nr).sort((a, b) => a - b);
    store.saveStaticModels([
      {
        key: "/usr/bin/true@1:2",
        exe: "/usr/bin/true",
        complete: false,
        syscalls: can,
        detail: {
          unresolved: 1,
          dlopen: 0,
          sites: ["libc+0x10: number not constant"],
          objects: [{ path: "/usr/bin/true", role: "main", cached: false }],
          files: [],
        },
      },
    ]);
    store.close();
    const show = JSON.parse(run(["profiles", "show", "true", "--json", "--state", withStatic]).stdout) as {
      syscalls: string[];
      static: {
        complete: boolean;
        syscalls: string[];
        unseen: string[];
        outside: string[];
        unresolved: number;
        sites: string[];
      };
    };
    expect(show.static).toMatchObject({ complete: false, unresolved: 1, sites: ["libc+0x10: number not constant"] });
    expect(show.static.syscalls).toEqual(["read", "write", "close", "mmap", "exit_group", "openat", "getrandom"]); // by number
    expect(show.static.unseen).toEqual(["mmap", "getrandom"]);
    expect(show.static.outside).toEqual([]);
    const text = run(["profiles", "show", "true", "--state", withStatic]).stdout;
    expect(text).toMatch(
      /^static {4}7 its binary can make, incomplete \(1 syscall site not resolved\), analysed .*: read write close mmap exit_group openat getrandom$/m,
    );
    expect(text).toMatch(/^not seen {2}2 it can make but never made while learning: mmap getrandom$/m);
    // A profile without a model says how to get one; a learned call outside the model is listed.
    const other = JSON.parse(run(["profiles", "show", "false", "--json", "--state", withStatic]).stdout) as {
      static: unknown;
    };
    expect(other.static).toBeNull();
    expect(run(["profiles", "show", "false", "--state", withStatic]).stdout).toMatch(
      /^static {4}none \(homeostat watch --static derives it from the binary\)$/m,
    );
    const narrow = StateStore.open(withStatic);
    narrow.saveStaticModels([
      {
        key: "/usr/bin/true@1:2",
        exe: "/usr/bin/true",
        complete: true,
        syscalls: [nr("read"), nr("exit_group")],
        detail: {},
      },
    ]);
    narrow.close();
    const outside = JSON.parse(run(["profiles", "show", "true", "--json", "--state", withStatic]).stdout) as {
      static: { outside: string[] };
    };
    expect(outside.static.outside).toEqual(["write", "close", "openat"]);
    expect(run(["profiles", "show", "true", "--state", withStatic]).stdout).toMatch(
      /^outside {3}3 learned but outside the static model: write close openat$/m,
    );
  });

  it("usage errors: ambiguous names, unknown modes", () => {
    const amb = join(dir, "amb");
    const store = StateStore.open(amb);
    const p = new PhProfile(HOST_SYMBOLS);
    store.saveProfiles([
      profileRecord("/usr/bin/true@1:2", { path: "/usr/bin/true", dev: 1, ino: 2 }, p),
      profileRecord("/usr/bin/true@1:9", { path: "/usr/bin/true", dev: 1, ino: 9 }, p),
    ]);
    store.close();
    const r = run(["profiles", "reset", "true", "--state", amb]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/matches 2 profiles/);
    expect(run(["profiles", "reset", "true", "--all", "--state", amb]).code).toBe(0);
    expect(run(["profiles", "export", "true", "--mode", "bogus", "--state", state]).code).toBe(2);
  });
});
