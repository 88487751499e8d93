// docs/syscall-categories.md, generated from the category table (categories.ts): the categories with their
// members' numbers on both ABIs (x86_64.ts, i386.ts) and the aliases; categories.test.ts checks the file is in sync.

import {
  ALL_ALIASES,
  CATEGORIES,
  CATEGORY_COUNT,
  CATEGORY_MEMBERS,
  categoryOf,
  type SyscallCategory,
} from "./categories.js";
import { I386_SYSCALLS } from "./i386.js";
import { X86_64_SYSCALLS } from "./x86_64.js";

/** docs/syscall-categories.md, generated from CATEGORIES, CATEGORY_MEMBERS, the two tables and the aliases. */
export function categoriesMarkdown(): string {
  const numbers: SyscallNumbers = {
    x64: new Map(X86_64_SYSCALLS.map(([n, name]) => [name, n])),
    i386: new Map(I386_SYSCALLS.map(([n, name]) => [name, n])),
  };
  return [
    ...introLines(),
    ...categoryTableLines(numbers),
    ...CATEGORIES.flatMap((c) => categorySectionLines(c.name, c.description, numbers)),
    ...aliasSectionLines(),
    "",
  ].join("\n");
}

/** Each ABI's call numbers by name. */
interface SyscallNumbers {
  x64: Map<string, number>;
  i386: Map<string, number>;
}

function introLines(): string[] {
  return [
    "# System-call categories",
    "",
    "<!-- Generated from src/syscalls/categories.ts by categoriesMarkdown(); do not edit by hand.",
    "     Regenerate: HOMEOSTAT_UPDATE_DOCS=1 npx vitest run src/syscalls/categories.test.ts -->",
    "",
    "The KS bigram classifier (Bushouse, *Characterization of System Calls*) works on system calls binned into " +
      "categories organised by operating-system primitive instead of on raw calls. homeostat uses the " +
      `${CATEGORY_COUNT} categories below; the index is the dense integer used in typed arrays ` +
      "(`categoryIndex`). Every call of the x86_64 and i386 tables (Linux v6.13) belongs to exactly one " +
      'category. "other" holds only the reserved entries Linux never implemented, and any name no category ' +
      "knows (unknown `syscall_<n>` numbers, opaque `#<n>` symbols).",
    "",
    "The categories refine Bushouse's five classic groups (process control, file management, device " +
      "management, information maintenance, communication) by primitive. Close neighbours share a category " +
      "to keep the alphabet near thirty: extended attributes are file metadata, process creation and " +
      "exit/wait form the process life cycle, directories share a category with links, renames and " +
      "removals, System V and POSIX IPC form one category, resource limits and usage are process " +
      "attributes, and namespaces and chroot join the security calls. The i386 multiplexers `socketcall` " +
      "and `ipc` are filed with socket set-up and IPC; which operation they carry is in their first argument.",
    "",
  ];
}

/** One row per category: its index, description and how many calls each ABI files under it. */
function categoryTableLines({ x64, i386 }: SyscallNumbers): string[] {
  const out = [
    "| index | category | description | calls | x86_64 | i386 |",
    "| ---: | --- | --- | ---: | ---: | ---: |",
  ];
  CATEGORIES.forEach((c, i) => {
    const names = CATEGORY_MEMBERS[c.name];
    const nx = names.filter((n) => x64.has(n)).length;
    const ni = names.filter((n) => i386.has(n)).length;
    out.push(`| ${i} | [${c.name}](#${c.name}) | ${c.description} | ${names.length} | ${nx} | ${ni} |`);
  });
  return out;
}

/** A category's section: its calls, sorted, with their numbers on each ABI. */
function categorySectionLines(name: SyscallCategory, description: string, { x64, i386 }: SyscallNumbers): string[] {
  const out = [
    "",
    `## ${name}`,
    "",
    `${description[0]!.toUpperCase()}${description.slice(1)}.`,
    "",
    "| syscall | x86_64 | i386 |",
    "| --- | ---: | ---: |",
  ];
  const names = [...CATEGORY_MEMBERS[name]].sort();
  for (const n of names) out.push(`| \`${n}\` | ${x64.get(n) ?? "-"} | ${i386.get(n) ?? "-"} |`);
  return out;
}

function aliasSectionLines(): string[] {
  const out = [
    "",
    "## Tracer aliases",
    "",
    "Names printed by strace or sysdig that differ from the kernel table name; `categoryOf` resolves them " +
      "before looking up the category (src/syscalls/aliases.ts).",
    "",
    "| printed name | kernel name | ABI | category | printed by |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const a of ALL_ALIASES) {
    out.push(`| \`${a.alias}\` | \`${a.name}\` | ${a.abi ?? "all"} | ${categoryOf(a.name)} | ${a.source} |`);
  }
  return out;
}
