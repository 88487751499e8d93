// The routes that change or export a profile: the confirmation page of an administrator's operation (GET, changes
// nothing), the operation itself (POST, refused with 403 without the session's CSRF token or from another origin),
// and the seccomp allow-list download (an attachment, as `homeostat profiles export` would write it).

import type { Hono } from "hono";
import { HomeostatError } from "../errors.js";
import type { ConsoleContext, ConsoleEnv } from "./consoleEnv.js";
import { html, link } from "./html.js";
import { page } from "./layout.js";
import {
  ADMIN_OPERATIONS,
  type AdminOperation,
  administer,
  downloadName,
  profileByKey,
  seccompExport,
} from "./profileActions.js";

function operationOf(text: unknown): AdminOperation {
  if (typeof text === "string" && (ADMIN_OPERATIONS as readonly string[]).includes(text)) return text as AdminOperation;
  throw new HomeostatError("E_USAGE", `unknown operation (${ADMIN_OPERATIONS.join(", ")})`);
}

export function registerProfileAdmin(app: Hono<ConsoleEnv>, ctx: ConsoleContext): void {
  app.get("/profile/confirm", (c) => {
    const key = c.req.query("key") ?? "";
    const op = operationOf(c.req.query("op"));
    const s = profileByKey(ctx.store, key);
    const body = html`<h1>${op} ${s.exe}?</h1>
      <p>
        The profile <code>${s.key}</code> is ${s.state}. <b>${op}</b> changes it now; a running watch loads the change
        within seconds.
      </p>
      <form method="post" action="/profile/admin">
        <input type="hidden" name="key" value="${key}" /><input type="hidden" name="op" value="${op}" /><input
          type="hidden"
          name="csrf"
          value="${c.get("csrf")}"
        />
        <button type="submit" class="danger" id="confirm">Yes, ${op} it</button>
        <a href="${link("/profile", { key })}">cancel</a>
      </form>`;
    return c.html(page({ title: `${op} ${s.exe}`, nav: "profiles", body }));
  });

  app.post("/profile/admin", async (c) => {
    const form = await c.req.parseBody();
    if (!ctx.allowPost(c, form.csrf)) {
      return c.text("refused: this form needs the console's CSRF token and the console's own origin", 403);
    }
    const key = typeof form.key === "string" ? form.key : "";
    const outcome = administer(ctx.stateDir, key, operationOf(form.op));
    const done = `${outcome.operation}: ${outcome.before} → ${outcome.after}`;
    return c.redirect(link("/profile", { key, done }), 303);
  });

  app.get("/profile/seccomp.json", (c) => {
    const key = c.req.query("key") ?? "";
    const mode = c.req.query("mode") === "log" ? "log" : "enforce";
    const s = profileByKey(ctx.store, key);
    if (s.state !== "normal" && c.req.query("training") !== "1") {
      throw new HomeostatError(
        "E_USAGE",
        `profile ${s.key} is ${s.state}, not normal: its allow-list may miss calls (training=1 exports it anyway)`,
      );
    }
    const name = downloadName(s.exe.slice(s.exe.lastIndexOf("/") + 1), "-seccomp.json");
    c.header("Content-Disposition", `attachment; filename="${name}"`);
    return c.body(`${JSON.stringify(seccompExport(ctx.store, key, mode), null, 2)}\n`, 200, {
      "Content-Type": "application/json; charset=utf-8",
    });
  });
}
