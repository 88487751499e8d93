// Programs compiled here, one feature each (dynamic, -static, -no-pie, a direct syscall(), a function-pointer table,
// threads, a dlopen'ed plugin, fork+exec): everything strace sees each one do is inside its static set and digraph,
// and calls a program has no code for are absent.

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzeProgram } from "./staticAnalysis.js";
import { memoryCache } from "./summaryCache.js";
import { missingCalls, missingPairs, observeCalls } from "./testing/observedCalls.js";

const ready = spawnSync("cc", ["--version"]).status === 0 && spawnSync("strace", ["-V"]).status === 0;
const cache = memoryCache();
let dir = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "homeostat-compiled-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function build(name: string, source: string, flags: string[] = []): string {
  const src = join(dir, `${name}.c`);
  writeFileSync(src, source);
  const exe = join(dir, name);
  execFileSync("cc", ["-O2", "-o", exe, src, ...flags]);
  return exe;
}

function sound(exe: string, args: string[] = [], plugins?: string[]): string[] {
  const model = analyzeProgram(exe, { digraph: true, cache, ...(plugins ? { plugins } : {}) });
  const seen = observeCalls([exe, ...args], { cwd: dir });
  expect(seen.unknown).toEqual([]);
  expect(missingCalls(seen, model.syscalls), `${exe}: calls outside the set`).toEqual([]);
  expect(missingPairs(seen, model.pairs ?? []), `${exe}: pairs outside the digraph`).toEqual([]);
  expect(
    model.complete,
    `${exe}: unresolved ${JSON.stringify(model.unresolved)} dlopen ${JSON.stringify(model.dlopen)}`,
  ).toBe(true);
  return model.names;
}

const NO_SPAWN = ["execve", "fork", "vfork", "clone3"];
const HELLO = '#include <stdio.h>\nint main(void){puts("hello");return 0;}\n';

describe.skipIf(!ready)("compiled programs", () => {
  it("dynamic, static and non-PIE builds of the same program", () => {
    for (const [name, flags] of [
      ["dyn", []],
      ["static", ["-static"]],
      ["nopie", ["-no-pie"]],
    ] as const) {
      const names = sound(build(`hello-${name}`, HELLO, [...flags]));
      for (const call of [...NO_SPAWN, "socket"]) expect(names, `${name} has ${call}`).not.toContain(call);
      expect(names).toContain("write");
    }
  });

  it("a direct syscall() resolves its number at the caller", () => {
    const names = sound(
      build(
        "direct",
        "#include <unistd.h>\n#include <sys/syscall.h>\nint main(void){return syscall(SYS_getppid) < 0;}\n",
      ),
    );
    expect(names).toContain("getppid");
  });

  it("a function-pointer table: every entry's calls are possible", () => {
    const src =
      "#include <unistd.h>\n#include <fcntl.h>\n#include <sys/stat.h>\n" +
      'static int a(void){return getpid();}\nstatic int b(void){struct stat s;return stat(".",&s);}\n' +
      "static int c(void){return umask(022);}\nstatic int (*const t[])(void)={a,b,c};\n" +
      "int main(int argc,char**argv){(void)argv;return t[argc%3]() < -1;}\n";
    const names = sound(build("table", src), ["x"]);
    for (const call of ["getpid", "umask", "newfstatat"]) expect(names).toContain(call);
    for (const call of NO_SPAWN) expect(names).not.toContain(call);
  });

  it("threads", () => {
    const src =
      '#include <pthread.h>\n#include <unistd.h>\nstatic void*run(void*p){write(1,"t\\n",2);return p;}\n' +
      "int main(void){pthread_t t;pthread_create(&t,0,run,0);pthread_join(t,0);return 0;}\n";
    const names = sound(build("threads", src, ["-pthread"]));
    expect(names).toContain("clone3");
    expect(names).not.toContain("execve");
  });

  it("fork and exec", () => {
    const src =
      "#include <unistd.h>\n#include <sys/wait.h>\nint main(void){pid_t p=fork();" +
      'if(p==0){execl("/bin/true","true",(char*)0);_exit(1);}int s;waitpid(p,&s,0);return 0;}\n';
    const names = sound(build("forkexec", src));
    for (const call of ["execve", "wait4"]) expect(names).toContain(call);
  });

  it("a dlopen'ed plugin: incomplete without it, sound with it", () => {
    const plugin = join(dir, "plugins");
    execFileSync("mkdir", ["-p", plugin]);
    const psrc = join(dir, "plug.c");
    writeFileSync(psrc, "#include <unistd.h>\nint plug(void){return (int)getpgrp();}\n");
    execFileSync("cc", ["-O2", "-shared", "-fPIC", "-o", join(plugin, "libplug.so"), psrc]);
    const src =
      '#include <dlfcn.h>\nint main(int c,char**v){void*h=dlopen(c>1?v[1]:"libplug.so",RTLD_NOW);' +
      'if(!h)return 1;int(*f)(void)=(int(*)(void))dlsym(h,"plug");return f()<0;}\n';
    const exe = build("dl", src, ["-ldl"]);
    const bare = analyzeProgram(exe, { cache });
    expect(bare.complete).toBe(false);
    expect(bare.dlopen.length).toBeGreaterThan(0);
    expect(bare.names).not.toContain("getpgrp");
    const names = sound(exe, [join(plugin, "libplug.so")], [plugin]);
    expect(names).toContain("getpgrp");
  });
});
