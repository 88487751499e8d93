// Public names of the response stage: turning what was learned and detected into action (policies for now;
// pH's graduated delays come with homeostat watch).

export * from "./seccompPolicy.js";
export * from "./graduatedDelay.js";
