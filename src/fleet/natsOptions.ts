// The NATS connection options of `--fleet URL[,URL...]`, `--fleet-creds FILE` and `--fleet-tls-ca FILE`: servers
// without their credentials, a user and password (or token) taken out of the URL, a creds file (JWT and nkey seed)
// or a bare nkey seed read from FILE, TLS for `tls://` URLs or a CA file. No secret ever reaches a message: errors
// name the file, never its contents, and `display` is the URL with its user part masked, for logs.

import { readFileSync } from "node:fs";
import { HomeostatError } from "../errors.js";

export interface FleetConnectFlags {
  /** `--fleet`: one URL or several joined by commas (a cluster), nats:// or tls://. */
  url: string;
  /** `--fleet-creds`: a NATS creds file, or a file holding a user nkey seed. */
  credsFile?: string;
  /** `--fleet-tls-ca`: the CA that signed the servers' certificates (turns TLS on). */
  tlsCaFile?: string;
  /** The connection's name, as the server's monitoring shows it. */
  name?: string;
}

/** How to authenticate, kept apart from the options so that nothing prints it by accident. */
export type FleetAuth =
  | { kind: "none" }
  | { kind: "password"; user: string; pass: string }
  | { kind: "token"; token: string }
  | { kind: "creds"; creds: Uint8Array }
  | { kind: "nkey"; seed: Uint8Array };

export interface FleetConnectPlan {
  /** `host:port` of each server, credentials removed. */
  servers: string[];
  tls: { caFile?: string } | undefined;
  auth: FleetAuth;
  name: string;
  /** The URL as it may be shown: user part masked. */
  display: string;
}

const SCHEMES = new Set(["nats:", "tls:"]);

function parseOne(text: string): { server: string; tls: boolean; user: string; pass: string; shown: string } {
  let u: URL;
  try {
    u = new URL(text.includes("://") ? text : `nats://${text}`);
  } catch {
    // The text may hold a password: say only what is wrong.
    throw new HomeostatError("E_USAGE", "--fleet: not a URL (nats://HOST:PORT or tls://HOST:PORT)");
  }
  if (!SCHEMES.has(u.protocol)) {
    throw new HomeostatError("E_USAGE", `--fleet: scheme ${u.protocol.slice(0, 12)} is not nats:// or tls://`);
  }
  if (u.hostname === "") throw new HomeostatError("E_USAGE", "--fleet: the URL has no host");
  if ((u.pathname !== "" && u.pathname !== "/") || u.search !== "" || u.hash !== "") {
    throw new HomeostatError("E_USAGE", "--fleet: the URL must be only scheme://[user[:password]@]HOST[:PORT]");
  }
  const port = u.port === "" ? "4222" : u.port;
  const server = `${u.hostname}:${port}`;
  let user: string;
  let pass: string;
  try {
    user = decodeURIComponent(u.username);
    pass = decodeURIComponent(u.password);
  } catch {
    throw new HomeostatError("E_USAGE", "--fleet: the user or password is not properly %-encoded");
  }
  const shown = `${u.protocol}//${user !== "" ? "***@" : ""}${server}`;
  return { server, tls: u.protocol === "tls:", user, pass, shown };
}

/** Reads the creds or nkey file: E_NOT_FOUND / E_PERMISSION / E_USAGE naming the file, never its bytes. */
export function readCredentials(file: string): FleetAuth {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new HomeostatError("E_NOT_FOUND", "--fleet-creds: no such file", { file });
    if (code === "EACCES" || code === "EPERM") {
      throw new HomeostatError("E_PERMISSION", "--fleet-creds: permission denied", { file });
    }
    throw new HomeostatError("E_IO", `--fleet-creds: cannot read (${code ?? "error"})`, { file });
  }
  const text = data.toString("utf8");
  if (text.includes("-----BEGIN NATS USER JWT-----")) {
    if (!/-----BEGIN USER NKEY SEED-----/.test(text)) {
      throw new HomeostatError("E_USAGE", "--fleet-creds: a creds file without its nkey seed", { file });
    }
    return { kind: "creds", creds: new Uint8Array(data) };
  }
  const seed = text.trim();
  if (/^SU[A-Z2-7]{56}$/.test(seed)) return { kind: "nkey", seed: new TextEncoder().encode(seed) };
  throw new HomeostatError(
    "E_USAGE",
    "--fleet-creds: neither a NATS creds file (JWT and seed) nor a user nkey seed (SU...)",
    { file },
  );
}

/** Plans a connection from the flags; every check happens here, before watching starts. */
export function planFleetConnection(flags: FleetConnectFlags): FleetConnectPlan {
  const parts = flags.url
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (parts.length === 0) throw new HomeostatError("E_USAGE", "--fleet: no server URL");
  const urls = parts.map(parseOne);
  const withUser = urls.find((u) => u.user !== "");
  if (withUser !== undefined && urls.some((u) => u.user !== withUser.user || u.pass !== withUser.pass)) {
    throw new HomeostatError("E_USAGE", "--fleet: every URL must carry the same user (or none)");
  }
  if (withUser !== undefined && flags.credsFile !== undefined) {
    throw new HomeostatError("E_USAGE", "--fleet: a user in the URL and --fleet-creds both given: choose one");
  }
  let auth: FleetAuth = { kind: "none" };
  if (flags.credsFile !== undefined) auth = readCredentials(flags.credsFile);
  else if (withUser !== undefined) {
    auth =
      withUser.pass === ""
        ? { kind: "token", token: withUser.user }
        : { kind: "password", user: withUser.user, pass: withUser.pass };
  }
  const tlsWanted = urls.some((u) => u.tls) || flags.tlsCaFile !== undefined;
  if (urls.some((u) => u.tls) && urls.some((u) => !u.tls) && flags.tlsCaFile === undefined) {
    throw new HomeostatError("E_USAGE", "--fleet: mixing nats:// and tls:// URLs");
  }
  return {
    servers: urls.map((u) => u.server),
    tls: tlsWanted ? (flags.tlsCaFile !== undefined ? { caFile: flags.tlsCaFile } : {}) : undefined,
    auth,
    name: flags.name ?? "homeostat",
    display: urls.map((u) => u.shown).join(","),
  };
}

/** The options for @nats-io/transport-node's connect(); authenticators are made by the caller's loaded module. */
export interface NatsAuthenticators {
  credsAuthenticator(creds: Uint8Array): unknown;
  nkeyAuthenticator(seed: Uint8Array): unknown;
}

export function natsConnectionOptions(plan: FleetConnectPlan, lib: NatsAuthenticators): Record<string, unknown> {
  const a = plan.auth;
  return {
    servers: plan.servers,
    name: plan.name,
    ...(plan.tls !== undefined ? { tls: plan.tls } : {}),
    ...(a.kind === "password" ? { user: a.user, pass: a.pass } : {}),
    ...(a.kind === "token" ? { token: a.token } : {}),
    ...(a.kind === "creds" ? { authenticator: lib.credsAuthenticator(a.creds) } : {}),
    ...(a.kind === "nkey" ? { authenticator: lib.nkeyAuthenticator(a.seed) } : {}),
  };
}
