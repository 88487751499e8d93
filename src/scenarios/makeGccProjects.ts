// Small C projects for the make + gcc scenario, generated from a seed: a header, a main and 1-3 modules of plain
// arithmetic and string code, and a Makefile with the usual targets (all, lib, test, install, clean), a VERSION
// that may be set on the command line (and is echoed while the Makefile is read, as many projects do), and an
// optional local.mk. Pure functions: the same seed gives the same files.

import { SeededRandom } from "../models/random.js";
import { between, pick } from "./planning.js";

export interface CProject {
  name: string;
  modules: number;
  /** Seed of the files' contents. */
  seed: number;
}

const NAMES = ["calc", "vector", "parser", "matrix", "ringbuf", "hashmap", "codec", "stats"];

/** Two projects with distinct names (compiling is the costly part of a recording under strace). */
export function planProjects(rng: SeededRandom): CProject[] {
  const names = [...NAMES];
  rng.shuffle(names);
  return names.slice(0, 2).map((name) => ({ name, modules: between(rng, 1, 3), seed: rng.nextUint32() }));
}

export const MAKEFILE = `PROJECT := $(notdir $(CURDIR))
VERSION ?= 1.0
CFLAGS ?= -O2 -Wall
CPPFLAGS := -Iinclude -DVERSION='"$(VERSION)"'
SRCS := $(sort $(wildcard src/*.c))
OBJS := $(patsubst src/%.c,build/%.o,$(SRCS))
LIBOBJS := $(filter-out build/main.o,$(OBJS))
$(info building $(PROJECT) $(VERSION))
-include local.mk

all: bin/$(PROJECT)

bin/$(PROJECT): $(OBJS) | bin
\t$(CC) $(LDFLAGS) -o $@ $^

build/%.o: src/%.c include/$(PROJECT).h | build
\t$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

lib: lib/lib$(PROJECT).a

lib/lib$(PROJECT).a: $(LIBOBJS) | libdir
\t$(AR) rcs $@ $^

test: bin/$(PROJECT)
\t./bin/$(PROJECT) 7 > build/test.out
\tgrep -q result build/test.out

install: all lib
\tmkdir -p $(DESTDIR)/bin $(DESTDIR)/lib
\tcp bin/$(PROJECT) $(DESTDIR)/bin/
\tcp lib/lib$(PROJECT).a $(DESTDIR)/lib/

clean:
\trm -rf build bin lib

bin build:
\tmkdir -p $@

libdir:
\tmkdir -p lib

.PHONY: all lib test install clean libdir
`;

function moduleSource(p: CProject, k: number, rng: SeededRandom): string {
  const a = between(rng, 2, 97);
  const b = between(rng, 1, 1000);
  const body = pick(rng, [
    `  long acc = ${b};\n  for (int i = 0; i < x % 50 + 5; i++) acc = (acc * ${a} + i) % 1000003;\n  return (int)acc;`,
    `  char buf[64];\n  snprintf(buf, sizeof buf, "%d-%d", x, ${b});\n  return (int)strlen(buf) * ${a};`,
    `  int v[16];\n  for (int i = 0; i < 16; i++) v[i] = (x + i * ${a}) % ${b + 7};\n  int m = v[0];\n  for (int i = 1; i < 16; i++) if (v[i] > m) m = v[i];\n  return m;`,
  ]);
  return `#include <stdio.h>\n#include <string.h>\n#include "${p.name}.h"\n\nint ${p.name}_mod${k}(int x) {\n${body}\n}\n`;
}

/** Every file of a project, by path relative to the project's folder. */
export function projectFiles(p: CProject): Map<string, string> {
  const rng = new SeededRandom(p.seed);
  const files = new Map<string, string>();
  const decls = Array.from({ length: p.modules }, (_, k) => `int ${p.name}_mod${k + 1}(int x);`).join("\n");
  files.set(
    `include/${p.name}.h`,
    `#ifndef ${p.name.toUpperCase()}_H\n#define ${p.name.toUpperCase()}_H\n${decls}\n#endif\n`,
  );
  for (let k = 1; k <= p.modules; k++) files.set(`src/mod${k}.c`, moduleSource(p, k, rng));
  const calls = Array.from({ length: p.modules }, (_, k) => `  sum += ${p.name}_mod${k + 1}(x);`).join("\n");
  files.set(
    "src/main.c",
    `#include <stdio.h>\n#include <stdlib.h>\n#include "${p.name}.h"\n\nint main(int argc, char **argv) {\n` +
      `  int x = argc > 1 ? atoi(argv[1]) : 1;\n  long sum = 0;\n${calls}\n` +
      `  printf("${p.name} %s result %ld\\n", VERSION, sum);\n  return 0;\n}\n`,
  );
  files.set("Makefile", MAKEFILE);
  return files;
}
