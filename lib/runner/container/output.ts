// A container's output on its way out of runc without a pty: into container.log (docker's json-file lines, one
// entry per line) and, for an attached run (-i in the foreground), to our own stdout/stderr as it comes. A -t
// container's pty output is logged by tty/console.ts (raw chunks, all "stdout", "\r\n" line ends: docker's).

import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

type Stream = 'stdout' | 'stderr';

/** Where an attached run shows the output; absent when detached (the log only). */
export type Echo = ((chunk: Buffer, stream: Stream) => void) | undefined;

const entry = (log: string, stream: Stream) => JSON.stringify({ log, stream, time: new Date().toISOString() }) + '\n';

/** Settles once `stream` is done (at once when it is already closed). */
function ended(stream: Readable): Promise<void> {
  return new Promise((resolve) => {
    // Under Bun the pipes of a runtime that could not be started are already closed when we get them (Node
    // ends them later): nothing will come, and readline would never say 'close'.
    if (stream.destroyed) return resolve();
    stream.once('end', () => resolve());
    stream.once('close', () => resolve());
  });
}

/** Lines of a non-terminal stream into the log (and, attached, each chunk shown as it arrives). */
export function pipeLines(stream: Readable, name: Stream, file: string, echo: Echo): Promise<void> {
  if (stream.destroyed) return Promise.resolve();
  if (echo) stream.on('data', (c: Buffer) => echo(c, name));
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  rl.on('line', (line) => appendFileSync(file, entry(line + '\n', name)));
  return ended(stream);
}
