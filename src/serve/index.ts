// Public names of the serve stage: `homeostat serve`, a web console over watch's state database (read-only beside
// the running watch; administrators' operations through the same path as `homeostat profiles`).

export * from "./consoleApp.js";
export * from "./consoleServer.js";
export * from "./listenAddress.js";
export { CONTENT_SECURITY_POLICY, SESSION_COOKIE, safeEqual } from "./security.js";
export { escapeHtml, html, SafeHtml } from "./html.js";
export { readToken } from "./tokenFile.js";
