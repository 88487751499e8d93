// Public names of the response stage: turning what was learned and detected into action: seccomp policies from
// profiles, pH's graduated delays, and the responder that carries out watch's responses under a policy.

export * from "./seccompPolicy.js";
export * from "./graduatedDelay.js";
export * from "./responder.js";
export * from "./clock.js";
export * from "./signals.js";
