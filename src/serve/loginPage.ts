// The login form (/login), when the console has a token: GET shows the form (the only page served without the
// token), POST checks the token in constant time and, when it matches, sets the session cookie and goes to the
// overview; the POST must come from the console's own origin, and a client address that gave wrong tokens too often
// waits (429, security.ts's throttle). POST /logout (with its session's CSRF token, from the console's origin) ends
// the session and clears the cookie.

import type { Hono } from "hono";
import type { ConsoleEnv } from "./consoleEnv.js";
import { html } from "./html.js";
import { page } from "./layout.js";
import { type ConsoleSecurity, sameOrigin, tooManyTries } from "./security.js";

function form(message: string | undefined): string {
  const body = html`<h1>homeostat console</h1>
    ${message !== undefined ? html`<p>${message}</p>` : ""}
    <form method="post" action="/login">
      <label>Token <input type="password" name="token" autocomplete="current-password" autofocus /></label>
      <button type="submit">Log in</button>
    </form>`;
  return page({ title: "Log in", nav: "login", body });
}

export function registerLogin(app: Hono<ConsoleEnv>, security: ConsoleSecurity): void {
  app.get("/login", (c) =>
    c.html(form(security.tokenRequired ? undefined : "This console has no token: nothing to log in to.")),
  );
  app.post("/login", async (c) => {
    if (!sameOrigin(c)) return c.text("refused: log in from the console's own page", 403);
    const wait = security.loginWaitMs(c);
    if (wait > 0) return tooManyTries(c, wait);
    const body = await c.req.parseBody();
    const token = typeof body.token === "string" ? body.token : "";
    if (!security.login(c, token)) return c.html(form("That is not the token."), 401);
    return c.redirect("/", 303);
  });
  app.post("/logout", async (c) => {
    const body = await c.req.parseBody();
    if (!security.postAllowed(c, body.csrf)) return c.text("refused: log out from the console's own page", 403);
    security.logout(c);
    return c.redirect(security.tokenRequired ? "/login" : "/", 303);
  });
}
