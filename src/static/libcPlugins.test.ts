import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { nssModules } from "./libcPlugins.js";

const dir = mkdtempSync(join(tmpdir(), "homeostat-nss-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("nssModules", () => {
  it("lists the services of nsswitch.conf that glibc does not build in, actions and comments left out", () => {
    const file = join(dir, "nsswitch.conf");
    writeFileSync(
      file,
      "# comment: ldap\npasswd:  files systemd\nhosts: files mdns4_minimal [NOTFOUND=return] dns\nnetgroup: nis # x\n",
    );
    expect(nssModules(file).sort()).toEqual(["mdns4_minimal", "nis", "systemd"]);
  });

  it("a missing file names no module", () => {
    expect(nssModules(join(dir, "absent"))).toEqual([]);
  });

  it("never throws and only returns service-like names other than files and dns, whatever the text", () => {
    const file = join(dir, "fuzz.conf");
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        writeFileSync(file, text);
        for (const name of nssModules(file)) {
          expect(name).toMatch(/^[a-z0-9_]+$/);
          expect(["files", "dns"]).not.toContain(name);
        }
      }),
      { numRuns: 200 },
    );
  });
});
