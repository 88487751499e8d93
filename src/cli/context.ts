// What a command's action reports back to main: the exit code of a run that did not throw.

export interface CliContext {
  exitCode: number;
}
