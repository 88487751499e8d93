// The console's defences, as Hono middleware. Response headers on everything: a strict Content-Security-Policy
// (scripts and styles only from this origin, no inline script, no eval, no framing), nosniff, no referrer outside
// the origin, no caching of pages. Without a token (loopback only), a Host header other than the address served is
// refused, so that a DNS-rebinding page cannot read the console. With a token, every request but the login form
// needs it: `Authorization: Bearer TOKEN`, or the session cookie the login form sets once given the token (HttpOnly,
// SameSite=Strict), compared in constant time; wrong tokens from one client address are slowed down
// (loginThrottle.ts: 429 after five). A session is a random id signed with a per-process key (HMAC-SHA-256); logging
// out revokes its id. A form's CSRF token is the HMAC of its session: a POST needs that token and an Origin (or
// Referer) matching the Host. Pages carry a log-out form in their header when there is a session to end.

import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { ConsoleEnv } from "./consoleEnv.js";
import { html } from "./html.js";
import { LOGOUT_SLOT } from "./layout.js";
import { LoginThrottle } from "./loginThrottle.js";

export const SESSION_COOKIE = "homeostat_session";

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export interface SecurityOptions {
  /** When set, every request must carry it (bearer header or login cookie). */
  token?: string;
  /** Host header values accepted when there is no token (the address served); undefined accepts any. */
  hosts?: readonly string[];
  /** The key that signs sessions (default: random, per process). */
  secret?: Buffer;
  /** The clock of the throttle of wrong tokens, in milliseconds (tests set it). */
  now?: () => number;
}

/** Logged-out session ids remembered at most (the oldest are forgotten first). */
const MAX_REVOKED = 10_000;

/** Constant-time equality of two strings (their SHA-256 digests, so that lengths leak nothing either). */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash("sha256").update(a).digest();
  const db = createHash("sha256").update(b).digest();
  return timingSafeEqual(da, db);
}

export class ConsoleSecurity {
  /** Wrong tokens by client address. */
  readonly throttle: LoginThrottle;
  private readonly secret: Buffer;
  private readonly revoked = new Set<string>();

  constructor(private readonly options: SecurityOptions) {
    this.secret = options.secret ?? randomBytes(32);
    this.throttle = new LoginThrottle(options.now);
  }

  get tokenRequired(): boolean {
    return this.options.token !== undefined;
  }

  /** The security headers, set on every response (errors and 401s included). */
  headers(): MiddlewareHandler<ConsoleEnv> {
    return async (c, next) => {
      await next();
      const h = c.res.headers;
      h.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
      h.set("X-Content-Type-Options", "nosniff");
      h.set("X-Frame-Options", "DENY");
      h.set("Referrer-Policy", "same-origin");
      h.set("Cross-Origin-Opener-Policy", "same-origin");
      h.set("Cross-Origin-Resource-Policy", "same-origin");
      if (!h.has("Cache-Control")) h.set("Cache-Control", "no-store");
      await this.fillLogoutSlot(c);
    };
  }

  /** A page's header gets the log-out form when the console has a token and the request a session to end. */
  private async fillLogoutSlot(c: Context<ConsoleEnv>): Promise<void> {
    const type = c.res.headers.get("Content-Type") ?? "";
    if (!type.startsWith("text/html")) return;
    const session = c.get("session") as string | undefined;
    const text = await c.res.text();
    const form =
      this.tokenRequired && session !== undefined && session !== "" && session !== "bearer"
        ? html`<form method="post" action="/logout" class="inline logout">
            <input type="hidden" name="csrf" value="${c.get("csrf")}" /><button type="submit">Log out</button>
          </form>`.text
        : "";
    c.res = new Response(text.replace(LOGOUT_SLOT, form), c.res);
  }

  /** Without a token: only the Host names of the address served (DNS rebinding). */
  hostCheck(): MiddlewareHandler<ConsoleEnv> {
    return async (c, next) => {
      const hosts = this.options.hosts;
      if (this.tokenRequired || hosts === undefined) return next();
      const host = new URL(c.req.url).host.toLowerCase();
      if (!hosts.includes(host)) return c.text(`unknown host ${host}: open the console at ${hosts[0]}`, 421);
      return next();
    };
  }

  /**
   * Who is asking: a signed session cookie, a bearer token, or (with a token) nobody: 401, except on the login form,
   * which is served without a session (a session comes only with the token). Sets session and csrf. Bearer tokens
   * count against the throttle as the login form's do (429 while a client address must wait).
   */
  authenticate(): MiddlewareHandler<ConsoleEnv> {
    return async (c, next) => {
      let session = this.sessionOf(c);
      if (session === undefined && hasBearer(c) && this.tokenRequired) {
        const address = clientAddress(c);
        const wait = this.throttle.waitMs(address);
        if (wait > 0) return tooManyTries(c, wait);
        if (this.bearerValid(c)) {
          this.throttle.succeeded(address);
          session = "bearer";
        } else this.throttle.failed(address);
      }
      if (session === undefined) {
        if (this.tokenRequired) {
          if (!isLoginPath(c)) return unauthorized(c);
          // No session, so no CSRF token: the login form's POST is checked by its origin instead.
          c.set("session", "");
          c.set("csrf", "");
          return next();
        }
        session = this.newSession(c);
      }
      c.set("session", session);
      c.set("csrf", this.csrfOf(session));
      return next();
    };
  }

  /** Milliseconds the client must wait before its next token is checked (0: now). */
  loginWaitMs(c: Context<ConsoleEnv>): number {
    return this.throttle.waitMs(clientAddress(c));
  }

  /**
   * The login form's check: the token, compared in constant time; sets a new session cookie when it matches. A
   * wrong token counts against the client's address (loginWaitMs says how long it must then wait).
   */
  login(c: Context<ConsoleEnv>, token: string): boolean {
    const address = clientAddress(c);
    if (this.options.token === undefined || !safeEqual(token, this.options.token)) {
      if (this.options.token !== undefined) this.throttle.failed(address);
      return false;
    }
    this.throttle.succeeded(address);
    this.newSession(c);
    return true;
  }

  /** Ends the request's session: its id is revoked (a copy of the cookie no longer works) and the cookie cleared. */
  logout(c: Context<ConsoleEnv>): void {
    const session = c.get("session");
    if (session !== "" && session !== "bearer") {
      this.revoked.add(session);
      if (this.revoked.size > MAX_REVOKED) this.revoked.delete(this.revoked.values().next().value!);
    }
    deleteCookie(c, SESSION_COOKIE, { path: "/", httpOnly: true, sameSite: "Strict" });
  }

  /** Whether a POST may change anything: same origin, and the CSRF token of its session. */
  postAllowed(c: Context<ConsoleEnv>, csrf: unknown): boolean {
    const expected = c.get("csrf");
    return sameOrigin(c) && typeof csrf === "string" && expected !== "" && safeEqual(csrf, expected);
  }

  private csrfOf(session: string): string {
    return createHmac("sha256", this.secret).update(`csrf\0${session}`).digest("base64url");
  }

  private sign(id: string): string {
    return createHmac("sha256", this.secret).update(`session\0${id}`).digest("base64url");
  }

  private sessionOf(c: Context<ConsoleEnv>): string | undefined {
    const cookie = getCookie(c, SESSION_COOKIE);
    if (cookie === undefined) return undefined;
    const dot = cookie.indexOf(".");
    if (dot <= 0) return undefined;
    const id = cookie.slice(0, dot);
    return safeEqual(cookie.slice(dot + 1), this.sign(id)) && !this.revoked.has(id) ? id : undefined;
  }

  private bearerValid(c: Context<ConsoleEnv>): boolean {
    const header = c.req.header("Authorization");
    const token = this.options.token;
    if (header === undefined || token === undefined || !/^Bearer /i.test(header)) return false;
    return safeEqual(header.slice(7).trim(), token);
  }

  private newSession(c: Context<ConsoleEnv>): string {
    const id = randomBytes(18).toString("base64url");
    setCookie(c, SESSION_COOKIE, `${id}.${this.sign(id)}`, { httpOnly: true, sameSite: "Strict", path: "/" });
    return id;
  }
}

function isLoginPath(c: Context<ConsoleEnv>): boolean {
  return c.req.path === "/login";
}

function hasBearer(c: Context<ConsoleEnv>): boolean {
  return /^Bearer /i.test(c.req.header("Authorization") ?? "");
}

/** The TCP peer's address (@hono/node-server's env), or "unknown" (app.request() in tests, without one). */
export function clientAddress(c: Context<ConsoleEnv>): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? "unknown";
}

/** 429, with how long to wait (Retry-After, whole seconds). */
export function tooManyTries(c: Context<ConsoleEnv>, waitMs: number): Response {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  c.header("Retry-After", String(seconds));
  return c.html(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>homeostat: too many tries</title></head>` +
      `<body><p>Too many wrong tokens from this address: try again in ${seconds} s.</p></body></html>`,
    429,
  );
}

/** The request's Origin, or its Referer's origin, is the origin of the Host it was sent to. */
export function sameOrigin(c: Context<ConsoleEnv>): boolean {
  const expected = new URL(c.req.url).origin;
  const origin = c.req.header("Origin");
  if (origin !== undefined) return origin === expected;
  const referer = c.req.header("Referer");
  if (referer === undefined) return false;
  try {
    return new URL(referer).origin === expected;
  } catch {
    return false;
  }
}

function unauthorized(c: Context<ConsoleEnv>): Response {
  c.header("WWW-Authenticate", 'Bearer realm="homeostat"');
  return c.html(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>homeostat: log in</title></head>` +
      `<body><p>This console needs its token: <a href="/login">log in</a>, or send ` +
      `<code>Authorization: Bearer TOKEN</code>.</p></body></html>`,
    401,
  );
}
