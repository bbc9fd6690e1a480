/** What a command touches of the outside world, so that tests can run commands in-process. */
export interface Io {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
  now(): number;
  /** Resolves when the person asks to stop (Ctrl-C). */
  readonly interrupted: Promise<void>;
}
