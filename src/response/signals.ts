// Sending signals, injectable so that tests can make a signal fail, and the failures told apart by errno: a
// process that is gone (ESRCH) is not the same as one homeostat is not permitted to signal (EPERM: another user's
// process, without CAP_KILL).

/** Sends a signal; throws as process.kill does (an Error with `code` "ESRCH", "EPERM"...). */
export type SignalSender = (pid: number, signal: NodeJS.Signals) => void;

export const processKill: SignalSender = (pid, signal) => {
  process.kill(pid, signal);
};

/** Why a signal could not be sent. */
export interface SignalFailure {
  /** The errno name ("ESRCH", "EPERM", ...), or "unknown". */
  code: string;
  /** ESRCH: the process is gone (it exited, and perhaps was reaped). */
  gone: boolean;
  /** For a reason line, e.g. "EPERM (not permitted)". */
  text: string;
}

const EXPLAINED: Readonly<Record<string, string>> = {
  ESRCH: "ESRCH (no such process)",
  EPERM: "EPERM (not permitted)",
};

/** The failure behind an error thrown by a SignalSender. */
export function signalFailure(err: unknown): SignalFailure {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string") return { code, gone: code === "ESRCH", text: EXPLAINED[code] ?? code };
  return { code: "unknown", gone: false, text: err instanceof Error ? err.message : String(err) };
}

/** Sends `signal`: undefined when it was sent, else why not. */
export function trySignal(send: SignalSender, pid: number, signal: NodeJS.Signals): SignalFailure | undefined {
  try {
    send(pid, signal);
    return undefined;
  } catch (err) {
    return signalFailure(err);
  }
}
