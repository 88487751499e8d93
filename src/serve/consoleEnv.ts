// What the console's middleware hands its routes in each request's context: the session the request belongs to
// (from its cookie, or its bearer token) and the CSRF token its forms must carry.

import type { Context } from "hono";
import type { StateStore } from "../store/stateStore.js";

export interface ConsoleEnv {
  Variables: {
    session: string;
    csrf: string;
  };
}

/** What every page's routes share. */
export interface ConsoleContext {
  /** The read-only store the pages read (one connection; WAL lets it read beside the running watch). */
  store: StateStore;
  /** The state directory (admin actions open it for writing, as `homeostat profiles` does). */
  stateDir: string;
  /** The clock, epoch seconds (tests fix it). */
  now: () => number;
  /** Whether a POST may change anything (same origin, the session's CSRF token): security.ts. */
  allowPost: (c: Context<ConsoleEnv>, csrf: unknown) => boolean;
}
