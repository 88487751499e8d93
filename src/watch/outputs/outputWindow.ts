// How long an output lets alerts gather before it hands them on together (to the HTTP output's worker thread, to
// the syslog socket or its helper). Each hand-over wakes another thread or process, which costs both sides far more
// than an alert does; once per window, that cost is a few dozen wake-ups a second whatever the rate of alerts, and a
// twentieth of a second is nothing next to how fast people, or a receiver such as Falcosidekick, act on an alert.

export const OUTPUT_WINDOW_MS = 50;

/** Calls `fn` once the window has passed (the timer does not keep the process alive: closing flushes). */
export function afterWindow(fn: () => void): NodeJS.Timeout {
  const t = setTimeout(fn, OUTPUT_WINDOW_MS);
  t.unref();
  return t;
}
