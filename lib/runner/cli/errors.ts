// The runner's errors and exit codes: scripts can rely on them (documented in README.md).

export const Exit = {
  Ok: 0,
  /** A command failed (CNI error, runtime error, ...). */
  Failure: 1,
  /** Bad usage: unknown flag, missing argument. */
  Usage: 2,
  /** The named container, image or network does not exist. */
  NotFound: 3,
  /** A conflict: name in use, port already allocated, overlapping subnet, container running. */
  Conflict: 4,
  /** `run` could not start the container (docker's 125). */
  RunFailed: 125,
} as const;

export class RunnerError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = Exit.Failure, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RunnerError';
    this.exitCode = exitCode;
  }
}

export class UsageError extends RunnerError {
  constructor(message: string) {
    super(message, Exit.Usage);
  }
}

export const notFound = (what: string) => new RunnerError(what, Exit.NotFound);
export const conflict = (what: string) => new RunnerError(what, Exit.Conflict);
