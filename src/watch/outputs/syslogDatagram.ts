// Alerts to a syslog daemon's unix DATAGRAM socket: /dev/log as systemd-journald and rsyslog's imuxsock own it.
// Node.js cannot send unix datagrams (its dgram module is UDP only, and a native addon would have to be built on
// every host), so a small helper process does: python3, or perl where python3 is missing (Debian's perl-base is
// always installed). The helper is started once; it connects a datagram socket to the path (which checks there is a
// datagram socket with a listener: it answers "ready" or "error ERRNO" and exits), then sends each line it reads on
// its standard input as one datagram. Watch writes an output window's messages to it in one write.
//
// Best effort, as the stream output is: when a send fails (the daemon is restarting), the helper says "fail ERRNO",
// waits (0.1 s, doubling up to 5 s), connects again and sends the same message, so that order is kept; meanwhile
// messages wait in the pipe and in watch's buffer, bounded (beyond, they are dropped and counted). A message the
// socket refuses as too large is dropped ("drop EMSGSIZE") and counted. A helper that dies is started again.

import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { HomeostatError } from "../../errors.js";
import { type Clock, systemClock, unrefTimer } from "../../response/clock.js";
import { type BackoffOptions, backoffDelay } from "./backoff.js";
import { afterWindow } from "./outputWindow.js";
import { LinesWriter } from "./syslogFormat.js";
import type { SyslogOutput, SyslogStats } from "./syslogOutput.js";

export type DatagramHelper = "python3" | "perl";

const PYTHON = `
import errno, socket, sys, time
path = sys.argv[1]
def name(e): return errno.errorcode.get(e.errno, str(e.errno))
def say(line):
    sys.stdout.write(line + "\\n"); sys.stdout.flush()
def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.connect(path)
    except OSError:
        s.close(); raise
    return s
try:
    s = connect()
except OSError as e:
    say("error " + name(e)); sys.exit(3)
say("ready")
delay = 0.1
for line in sys.stdin.buffer:
    msg = line.rstrip(b"\\n")
    while True:
        try:
            s.send(msg); delay = 0.1; break
        except OSError as e:
            if e.errno == errno.EMSGSIZE:
                say("drop EMSGSIZE"); break
            say("fail " + name(e))
            time.sleep(delay); delay = min(delay * 2, 5.0)
            try:
                s.close(); s = connect()
            except OSError:
                pass
`;

const PERL = `
use strict; use Socket; use Errno;
$| = 1;
my $path = shift;
my $addr = pack_sockaddr_un($path);
my $s;
sub conn { socket($s, PF_UNIX, SOCK_DGRAM, 0) or return 0; return connect($s, $addr) }
sub errname { for my $k (keys %!) { return $k if $!{$k} } return 0 + $! }
if (!conn()) { print "error " . errname() . "\\n"; exit 3 }
print "ready\\n";
my $delay = 0.1;
while (my $line = <STDIN>) {
  chomp $line;
  while (1) {
    if (defined send($s, $line, 0)) { $delay = 0.1; last }
    if ($!{EMSGSIZE}) { print "drop EMSGSIZE\\n"; last }
    print "fail " . errname() . "\\n";
    select(undef, undef, undef, $delay);
    $delay = $delay * 2 > 5 ? 5 : $delay * 2;
    close($s); conn();
  }
}
`;

const HELPERS: Record<DatagramHelper, (path: string) => [string, string[]]> = {
  python3: (path) => ["python3", ["-c", PYTHON, path]],
  perl: (path) => ["perl", ["-e", PERL, path]],
};

export interface DatagramSinkOptions {
  path: string;
  maxQueued?: number;
  clock?: Clock;
  backoff?: BackoffOptions;
  /** The helper to use (default: python3, else perl). */
  helpers?: readonly DatagramHelper[];
}

/** A started helper: the process, and what it answered first ("ready", or "error ERRNO"). */
interface Started {
  child: ChildProcessWithoutNullStreams;
  helper: DatagramHelper;
}

export class DatagramSyslogSink implements SyslogOutput {
  readonly socketType = "datagram" as const;
  private child: ChildProcessWithoutNullStreams | undefined;
  private helper: DatagramHelper;
  /** Messages waiting for the helper: their heads and bodies. */
  private heads: string[] = [];
  private bodies: string[] = [];
  private windowTimer: NodeJS.Timeout | undefined;
  private retryTimer: unknown;
  private attempt = 0;
  private closed = false;
  private readonly clock: Clock;
  private readonly maxQueued: number;
  private readonly lines = new LinesWriter();
  private readonly counts: SyslogStats = { sent: 0, dropped: 0, failures: 0, connected: false, lastError: undefined };

  /** Starts the helper and waits for its check of the socket; rejects with a typed error saying why and what to do. */
  static async open(options: DatagramSinkOptions): Promise<DatagramSyslogSink> {
    const started = await startHelper(options.path, options.helpers ?? ["python3", "perl"]);
    const sink = new DatagramSyslogSink(options, started.helper);
    sink.attach(started.child);
    return sink;
  }

  private constructor(
    private readonly options: DatagramSinkOptions,
    helper: DatagramHelper,
  ) {
    this.helper = helper;
    this.clock = options.clock ?? systemClock;
    this.maxQueued = options.maxQueued ?? 10_000;
  }

  get stats(): Readonly<SyslogStats> {
    return this.counts;
  }

  get queued(): number {
    return this.heads.length;
  }

  /** Queues one message (`head` then `body`); the window's messages (outputWindow.ts) go to the helper in one write. */
  send(head: string, body = ""): void {
    if (this.closed) return;
    if (this.heads.length >= this.maxQueued) {
      this.counts.dropped++;
      return;
    }
    this.heads.push(head);
    this.bodies.push(body);
    this.windowTimer ??= afterWindow(this.flush);
  }

  private readonly flush = (): void => {
    clearTimeout(this.windowTimer);
    this.windowTimer = undefined;
    const c = this.child;
    if (c === undefined || this.heads.length === 0) return;
    // The helper is behind (the daemon is away): what does not fit waits here, bounded by send().
    if (c.stdin.writableLength > this.maxQueued * 256) return;
    this.lines.write(c.stdin, this.heads, this.bodies);
    this.counts.sent += this.heads.length;
    this.heads = [];
    this.bodies = [];
  };

  /** SIGHUP: a new helper now (it connects again, its backoff reset). */
  reconnect(): void {
    if (this.closed) return;
    if (this.retryTimer !== undefined) this.clock.clearTimer(this.retryTimer);
    this.retryTimer = undefined;
    this.attempt = 0;
    const old = this.child;
    this.child = undefined;
    old?.kill();
    this.restart();
  }

  /** Hands over what is queued, lets the helper send it (bounded by `ms`), and ends it. */
  async close(ms = 1000): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.retryTimer !== undefined) this.clock.clearTimer(this.retryTimer);
    this.counts.dropped += this.heads.length;
    this.heads = [];
    this.bodies = [];
    const c = this.child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => c.kill("SIGKILL"), ms);
      c.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      c.stdin.end();
    });
  }

  private attach(child: ChildProcessWithoutNullStreams): void {
    this.child = child;
    this.counts.connected = true;
    let carry = "";
    child.stdout.on("data", (chunk: Buffer) => {
      const lines = (carry + chunk.toString("latin1")).split("\n");
      carry = lines.pop()!;
      for (const line of lines) this.report(line);
    });
    child.stdout.resume(); // startOne paused it until this listener was there
    child.stdin.on("error", () => {}); // a helper gone: seen by "exit"
    child.stdin.on("drain", this.flush); // what waited while the helper was behind
    child.once("exit", (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.counts.connected = false;
      if (this.closed) return;
      this.counts.failures++;
      this.counts.lastError = `the ${this.helper} helper ended (${signal ?? `exit code ${code}`})`;
      this.scheduleRestart();
    });
    this.flush();
  }

  private report(line: string): void {
    const [what, errno] = line.split(" ");
    if (what === "fail") {
      this.counts.failures++;
      this.counts.connected = false;
      this.counts.lastError = errno;
    } else if (what === "drop") {
      this.counts.dropped++;
      this.counts.lastError = errno;
    }
  }

  private scheduleRestart(): void {
    this.retryTimer = this.clock.setTimer(
      () => {
        this.retryTimer = undefined;
        this.restart();
      },
      backoffDelay(this.attempt++, this.options.backoff),
    );
    unrefTimer(this.retryTimer);
  }

  private restart(): void {
    startHelper(this.options.path, [this.helper]).then(
      (started) => {
        if (this.closed) started.child.kill();
        else {
          this.attempt = 0;
          this.attach(started.child);
        }
      },
      (err: unknown) => {
        this.counts.failures++;
        this.counts.lastError = err instanceof Error ? err.message : String(err);
        if (!this.closed) this.scheduleRestart();
      },
    );
  }
}

/** The first helper of `helpers` that starts; resolves once it said "ready", rejects with what it said otherwise. */
async function startHelper(path: string, helpers: readonly DatagramHelper[]): Promise<Started> {
  for (const helper of helpers) {
    const started = await startOne(path, helper);
    if (started !== undefined) return started;
  }
  throw new HomeostatError(
    "E_DEPENDENCY",
    `${path} is a datagram socket (journald's or rsyslog's /dev/log), and sending datagrams to it takes ` +
      `${helpers.join(" or ")}, which is not installed: install one, or give --syslog-socket a stream socket ` +
      `(docs/operations.md)`,
  );
}

/** Starts one helper; undefined when its program is not installed. */
function startOne(path: string, helper: DatagramHelper): Promise<Started | undefined> {
  const [command, args] = HELPERS[helper](path);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const onData = (chunk: Buffer) => {
      out += chunk.toString("latin1");
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      child.stdout.off("data", onData);
      const first = out.slice(0, nl);
      // Anything after the first line is the helper's reports; put back for the sink to read.
      // Paused until the sink listens (a flowing stream without a listener would lose them).
      child.stdout.pause();
      const rest = out.slice(nl + 1);
      if (rest !== "") child.stdout.unshift(Buffer.from(rest, "latin1"));
      if (first === "ready") resolve({ child, helper });
      else reject(datagramError(first.replace(/^error /, ""), path));
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString("utf8")));
    child.once("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") resolve(undefined);
      else reject(new HomeostatError("E_DEPENDENCY", `cannot start ${command}: ${e.message}`, {}, { cause: e }));
    });
    child.once("exit", (code) => {
      if (out.includes("\n")) return;
      reject(
        new HomeostatError("E_DEPENDENCY", `${command} ended before checking ${path} (exit ${code}): ${err.trim()}`),
      );
    });
  });
}

function datagramError(errno: string, path: string): HomeostatError {
  if (errno === "EACCES" || errno === "EPERM") {
    return new HomeostatError("E_PERMISSION", `not permitted to send to the syslog socket ${path}`);
  }
  const why =
    errno === "ENOENT"
      ? "there is no such socket"
      : errno === "ECONNREFUSED"
        ? "nothing listens on it"
        : errno === "EPROTOTYPE"
          ? "it is not a datagram socket"
          : errno;
  return new HomeostatError("E_DEPENDENCY", `cannot send to the syslog socket ${path}: ${why}`);
}
