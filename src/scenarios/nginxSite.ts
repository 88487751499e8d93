// What the nginx scenario's "container" holds: nginx's configuration (foreground master with two workers, its own
// prefix, logs and temp folders, 127.0.0.1 only), the static site, and the application nginx proxies /api/ to: a
// small Python service (stdlib http.server) with a planted, classic bug: /api/ping puts the host name into a shell
// command. Its static files are served by nginx through `location /static { alias .../app/static/; }`, the
// "off-by-slash" alias misconfiguration that lets /static../ read the application's folder (Orange Tsai, "Breaking
// Parser Logic", Black Hat 2018).

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { SeededRandom } from "../models/random.js";
import { SECRET_MARKER } from "./attackProof.js";
import { textOfSize } from "./corpus.js";
import { writeSite } from "./webSite.js";

export const UPSTREAM_APP = `import json, os, subprocess, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

ITEMS = json.load(open(os.path.join(os.path.dirname(__file__), "data", "items.json")))
STARTED = time.time()

class Api(BaseHTTPRequestHandler):
    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/api/status":
            return self.reply(200, {"uptime": round(time.time() - STARTED, 3), "items": len(ITEMS)})
        if url.path == "/api/items":
            item = next((i for i in ITEMS if str(i["id"]) == q.get("id")), None)
            return self.reply(200 if item else 404, item or {"error": "no such item"})
        if url.path == "/api/search":
            word = q.get("q", "").lower()
            return self.reply(200, {"hits": [i["id"] for i in ITEMS if word in i["name"]]})
        if url.path == "/api/ping":
            r = subprocess.run("getent hosts " + q.get("host", "localhost"), shell=True, capture_output=True, text=True)
            return self.reply(200, {"host": q.get("host"), "found": r.returncode == 0, "answer": r.stdout.strip()})
        self.reply(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        name = self.rfile.read(length).decode()
        ITEMS.append({"id": len(ITEMS) + 1, "name": name[:40]})
        self.reply(201, {"id": len(ITEMS)})

HTTPServer(("127.0.0.1", int(sys.argv[1])), Api).serve_forever()
`;

export interface NginxPorts {
  nginx: number;
  app: number;
}

/** nginx.conf for a prefix folder; `user root` when homeostat runs as root, so workers reach a private scratch. */
export function nginxConf(prefix: string, www: string, ports: NginxPorts, asRoot: boolean): string {
  const tmp = (n: string): string => `${n}_temp_path ${prefix}/tmp/${n};`;
  return `daemon off;
master_process on;
worker_processes 2;
${asRoot ? "user root;\n" : ""}pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log notice;
events { worker_connections 256; }
http {
  types { text/html html; text/css css; application/javascript js; image/jpeg jpg; image/png png;
          text/plain txt; text/csv csv; application/octet-stream bin; text/plain ini; text/x-python py; }
  default_type application/octet-stream;
  access_log ${prefix}/logs/access.log;
  ${tmp("client_body")} ${tmp("proxy")} ${tmp("fastcgi")} ${tmp("uwsgi")} ${tmp("scgi")}
  sendfile on;
  keepalive_timeout 15;
  gzip on;
  gzip_types text/css application/javascript text/plain;
  if_modified_since before;
  server {
    listen 127.0.0.1:${ports.nginx};
    server_name localhost;
    root ${www}/html;
    index index.html;
    location /static { alias ${www}/app/static/; }
    location /api/ { proxy_pass http://127.0.0.1:${ports.app}; proxy_set_header Host $host; }
    location = /status { stub_status; }
  }
}
`;
}

/** The files of one recording's container: site, application (with its config secret), nginx prefix. */
export function writeNginxContainer(
  work: string,
  ports: NginxPorts,
  tools: { nginx: string; python: string },
): { prefix: string; entry: string } {
  const asRoot = process.getuid?.() === 0;
  const www = path.join(work, "www");
  const prefix = path.join(work, "nginx");
  writeSite(path.join(www, "html"));
  const rng = new SeededRandom(0xa11a5);
  const app = path.join(www, "app");
  for (const d of ["static", "data", "config"]) mkdirSync(path.join(app, d), { recursive: true });
  writeFileSync(path.join(app, "app.py"), UPSTREAM_APP);
  writeFileSync(path.join(app, "static", "app.css"), textOfSize(rng, 3_000));
  writeFileSync(path.join(app, "static", "app.js"), textOfSize(rng, 9_000));
  const items = Array.from({ length: 30 }, (_, i) => ({
    id: i + 1,
    name: `item ${textOfSize(rng, 10).trim().slice(0, 20)}`,
  }));
  writeFileSync(path.join(app, "data", "items.json"), JSON.stringify(items));
  writeFileSync(path.join(app, "config", "secrets.ini"), `[database]\nuser = app\npassword = ${SECRET_MARKER}\n`);
  for (const d of ["logs", "tmp"]) mkdirSync(path.join(prefix, d), { recursive: true });
  writeFileSync(path.join(prefix, "nginx.conf"), nginxConf(prefix, www, ports, asRoot));
  const entry = path.join(work, "entrypoint.sh");
  writeFileSync(
    entry,
    `#!/bin/sh\n# The container's entrypoint: the application, then nginx in the foreground.\n` +
      `cd ${app}\n${tools.python} app.py ${ports.app} &\nexec ${tools.nginx} -p ${prefix} -c ${prefix}/nginx.conf -e ${prefix}/logs/error.log\n`,
    { mode: 0o755 },
  );
  return { prefix, entry };
}
