// The console's defences, as Hono middleware. Response headers on everything: a strict Content-Security-Policy
// (scripts and styles only from this origin, no inline script, no eval, no framing), nosniff, no referrer outside
// the origin, no caching of pages. Without a token (loopback only), a Host header other than the address served is
// refused, so that a DNS-rebinding page cannot read the console. With a token, every request but the login form
// needs it: `Authorization: Bearer TOKEN`, or the session cookie the login form sets (HttpOnly, SameSite=Strict),
// compared in constant time. A session is a random id signed with a per-process key (HMAC-SHA-256), and a form's
// CSRF token is the HMAC of its session: a POST needs that token and an Origin (or Referer) matching the Host.

import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import type { ConsoleEnv } from "./consoleEnv.js";

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
}

/** Constant-time equality of two strings (their SHA-256 digests, so that lengths leak nothing either). */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash("sha256").update(a).digest();
  const db = createHash("sha256").update(b).digest();
  return timingSafeEqual(da, db);
}

export class ConsoleSecurity {
  private readonly secret: Buffer;

  constructor(private readonly options: SecurityOptions) {
    this.secret = options.secret ?? randomBytes(32);
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
    };
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

  /** Who is asking: a bearer token, a signed session cookie, or (with a token) nobody, 401; sets session and csrf. */
  authenticate(): MiddlewareHandler<ConsoleEnv> {
    return async (c, next) => {
      let session = this.sessionOf(c);
      if (session === undefined && this.bearerValid(c)) session = "bearer";
      if (session === undefined) {
        if (this.tokenRequired && !isLoginPath(c)) return unauthorized(c);
        session = this.newSession(c);
      }
      c.set("session", session);
      c.set("csrf", this.csrfOf(session));
      return next();
    };
  }

  /** The login form's check: the token, compared in constant time; sets a new session cookie when it matches. */
  login(c: Context<ConsoleEnv>, token: string): boolean {
    if (this.options.token === undefined || !safeEqual(token, this.options.token)) return false;
    this.newSession(c);
    return true;
  }

  /** Whether a POST may change anything: same origin, and the CSRF token of its session. */
  postAllowed(c: Context<ConsoleEnv>, csrf: unknown): boolean {
    return sameOrigin(c) && typeof csrf === "string" && safeEqual(csrf, c.get("csrf"));
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
    return safeEqual(cookie.slice(dot + 1), this.sign(id)) ? id : undefined;
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
