// The seeded git session of the git scenario: a developer's day in a fresh repository (init, edits, add, commit,
// status, log, diff, show, branches, switches, merges, tags, stash, grep, blame, mv/rm, archive, clone, reset...),
// drawn from a model of the repository's state so that every command is valid when it runs: a switch only from a
// clean tree, a merge only of a branch that has commits, stash pop only after a stash. Feature branches touch only
// their own files and README.md, and merges take theirs, so no merge can stop on a conflict. Pure: seed -> commands.

import type { SeededRandom } from "../models/random.js";
import { sentence } from "./corpus.js";
import { pick, planAttack, rngFor, weighted, word } from "./planning.js";
import { shellQuote } from "./shellSession.js";
import type { ShellAction } from "./shellRecording.js";
import type { RecordingPlan, RecordingSpec } from "./types.js";

/** The model of the repository a session drives. */
interface RepoState {
  rng: SeededRandom;
  branch: string;
  /** Committed files of each branch. */
  files: Map<string, Set<string>>;
  /** Branches with commits not merged into main yet. */
  unmerged: Set<string>;
  /** Tracked files changed, new files, and anything staged, since the last commit. */
  modified: Set<string>;
  untracked: Set<string>;
  /** New files staged, committed with the next commit. */
  stagedNew: Set<string>;
  staged: boolean;
  /** main's files that `git rm` or `git mv` took away: a merge does not bring them back (no branch edits them). */
  removed: Set<string>;
  /** The modified files a stash holds. */
  stash: Set<string> | undefined;
  commits: number;
  branches: number;
  tags: number;
  created: number;
}

const clean = (s: RepoState): boolean =>
  s.modified.size === 0 && s.untracked.size === 0 && !s.staged && s.stash === undefined;

/** Lines appended to (or written into) a file. */
function lines(rng: SeededRandom): string {
  const n = 1 + rng.nextInt(4);
  return Array.from({ length: n }, () => shellQuote(sentence(rng))).join(" ");
}

/** Files the current branch may edit: main's own, or the feature branch's, and README.md. */
function editable(s: RepoState): string[] {
  const own = [...s.files.get(s.branch)!].filter((f) =>
    s.branch === "main" ? !f.startsWith("feat-") : f.startsWith(`${s.branch}/`),
  );
  return [...own, "README.md"];
}

function edit(s: RepoState): ShellAction {
  const { rng } = s;
  if (rng.next() < 0.3) {
    const dir = s.branch === "main" ? pick(rng, ["src", "docs"]) : s.branch;
    const file = `${dir}/${word(rng, 3, 7)}-${++s.created}.txt`;
    s.untracked.add(file);
    return { command: `mkdir -p ${dir} && printf '%s\\n' ${lines(rng)} > ${file}` };
  }
  const file = pick(rng, editable(s));
  s.modified.add(file);
  return { command: `printf '%s\\n' ${lines(rng)} >> ${file}` };
}

function add(s: RepoState): ShellAction {
  const files = [...s.modified, ...s.untracked];
  for (const f of s.untracked) s.stagedNew.add(f);
  s.modified.clear();
  s.untracked.clear();
  s.staged = true;
  return { command: s.rng.next() < 0.5 ? "git add -A" : `git add ${files.join(" ")}` };
}

function commit(s: RepoState): ShellAction {
  for (const f of s.stagedNew) s.files.get(s.branch)!.add(f);
  s.stagedNew.clear();
  s.staged = false;
  s.commits++;
  if (s.branch !== "main") s.unmerged.add(s.branch);
  return { command: `git commit -q -m ${shellQuote(sentence(s.rng, 2, 6))}` };
}

function switchBranch(s: RepoState): ShellAction {
  const { rng } = s;
  const others = [...s.files.keys()].filter((b) => b !== s.branch);
  if (others.length === 0 || rng.next() < 0.35) {
    const name = `feat-${++s.branches}`;
    s.files.set(name, new Set(s.files.get(s.branch)));
    s.branch = name;
    return { command: `git switch -q -c ${name}` };
  }
  s.branch = pick(rng, others);
  return { command: rng.next() < 0.5 ? `git checkout -q ${s.branch}` : `git switch -q ${s.branch}` };
}

function merge(s: RepoState): ShellAction {
  const branch = pick(s.rng, [...s.unmerged]);
  s.unmerged.delete(branch);
  for (const f of s.files.get(branch)!) if (!s.removed.has(f)) s.files.get("main")!.add(f);
  s.commits++;
  return { command: `git merge -q --no-edit -X theirs ${branch}` };
}

/** main's own committed sources that are not modified (git rm refuses a file with changes). */
function movable(s: RepoState): string[] {
  return [...s.files.get("main")!].filter((f) => f.startsWith("src/") && !s.modified.has(f));
}

function moveOrRemove(s: RepoState): ShellAction {
  const { rng } = s;
  const mine = movable(s);
  const file = pick(rng, mine);
  s.files.get("main")!.delete(file);
  s.removed.add(file);
  s.staged = true;
  if (rng.next() < 0.5) return { command: `git rm -q ${file}` };
  const to = `src/${word(rng, 3, 7)}-${++s.created}.txt`;
  s.stagedNew.add(to);
  return { command: `git mv ${file} ${to}` };
}

/** Read-only commands: valid in any state of the repository. */
function inspect(s: RepoState): ShellAction {
  const { rng } = s;
  const file = pick(rng, [...s.files.get(s.branch)!]);
  const n = 1 + rng.nextInt(8);
  const options: ShellAction[] = [
    { command: pick(rng, ["git status", "git status --short", "git status -sb"]) },
    {
      command: pick(rng, [
        `git log --oneline -n ${n}`,
        `git log --stat -n ${Math.min(n, 3)}`,
        "git log --graph --oneline --all",
      ]),
    },
    { command: pick(rng, ["git diff", "git diff --cached", "git diff --stat HEAD"]) },
    { command: pick(rng, ["git show --stat HEAD", `git show HEAD:${file}`, "git show -s --format=%H%n%an%n%s HEAD"]) },
    { command: pick(rng, ["git branch", "git branch -v", "git tag -l", "git stash list", "git remote -v"]) },
    { command: `git grep -n -i -e ${pick(rng, ["trace", "kernel", "socket", "version", "signal"])}`, expect: "any" },
    { command: `git blame -s ${file}` },
    { command: pick(rng, ["git ls-files", "git rev-parse HEAD", "git cat-file -p HEAD", "git count-objects -v"]) },
    { command: pick(rng, ["git describe --tags --always", "git shortlog -sn HEAD", "git reflog -n 5"]) },
  ];
  return pick(rng, options);
}

type Move =
  | "edit"
  | "add"
  | "commit"
  | "switch"
  | "merge"
  | "tag"
  | "stash"
  | "pop"
  | "mvrm"
  | "archive"
  | "clone"
  | "gc"
  | "inspect";

/** The moves valid in this state, with their weights. */
function moves(s: RepoState): [Move, number][] {
  if (s.stash !== undefined)
    return [
      ["pop", 3],
      ["inspect", 2],
    ];
  const m: [Move, number][] = [
    ["edit", 6],
    ["inspect", 10],
  ];
  if (s.modified.size + s.untracked.size > 0) m.push(["add", 6]);
  if (s.staged) m.push(["commit", 8]);
  if (clean(s)) m.push(["switch", 3], ["tag", 1], ["archive", 1], ["clone", 0.5], ["gc", 0.3]);
  if (clean(s) && s.branch === "main" && s.unmerged.size > 0) m.push(["merge", 4]);
  if (s.modified.size > 0 && s.untracked.size === 0 && !s.staged) m.push(["stash", 2]);
  if (s.branch === "main" && !s.staged && movable(s).length > 0) m.push(["mvrm", 1]);
  return m;
}

function move(s: RepoState, kind: Move): ShellAction {
  switch (kind) {
    case "edit":
      return edit(s);
    case "add":
      return add(s);
    case "commit":
      return commit(s);
    case "switch":
      return switchBranch(s);
    case "merge":
      return merge(s);
    case "tag":
      return { command: `git tag -a v0.${++s.tags} -m ${shellQuote(sentence(s.rng, 2, 4))}` };
    case "stash":
      s.stash = new Set(s.modified);
      s.modified.clear();
      return { command: "git stash -q" };
    case "pop":
      for (const f of s.stash ?? []) s.modified.add(f);
      s.stash = undefined;
      return { command: "git stash pop -q" };
    case "mvrm":
      return moveOrRemove(s);
    case "archive":
      return { command: `git archive -o ../snapshot-${s.commits}.tar HEAD` };
    case "clone":
      return { command: `rm -rf ../clone && git clone -q . ../clone && git -C ../clone log --oneline -n 3` };
    case "gc":
      return { command: "git gc -q" };
    case "inspect":
      return inspect(s);
  }
}

/** The session's first commands: a repository with a README, sources and docs, committed. */
function prologue(s: RepoState): ShellAction[] {
  const main = s.files.get("main")!;
  const first = ["README.md", "src/main.txt", "src/util.txt", "docs/guide.txt"];
  for (const f of first) main.add(f);
  s.commits = 1;
  return [
    {
      command:
        "git init -q -b main repo && cd repo && git config user.name Dev && git config user.email dev@example.org",
    },
    { command: `mkdir -p src docs && ${first.map((f) => `printf '%s\\n' ${lines(s.rng)} > ${f}`).join(" && ")}` },
    { command: "git add -A && git commit -q -m 'Initial commit'" },
  ];
}

/** The plan of one git session: `spec.actions` commands (at least the prologue's three), and the attack's position. */
export function planGitSession(spec: RecordingSpec): RecordingPlan<ShellAction> {
  const s: RepoState = {
    rng: rngFor(spec),
    branch: "main",
    files: new Map([["main", new Set<string>()]]),
    unmerged: new Set(),
    removed: new Set(),
    modified: new Set(),
    untracked: new Set(),
    stagedNew: new Set(),
    staged: false,
    stash: undefined,
    commits: 0,
    branches: 0,
    tags: 0,
    created: 0,
  };
  const actions = prologue(s);
  while (actions.length < spec.actions) actions.push(move(s, weighted(s.rng, moves(s))));
  const attack = planAttack({ ...spec, actions: actions.length });
  // The attack never goes inside the prologue: the repository exists before it.
  if (attack !== undefined && attack.at < 3) attack.at = 3;
  return { seed: spec.seed, actions, ...(attack !== undefined ? { attack } : {}) };
}
