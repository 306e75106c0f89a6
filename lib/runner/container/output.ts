// A container's output on its way out of runc: into container.log (docker's json-file lines) and, for an attached
// run (-i / -t in the foreground), to our own stdout/stderr as it comes.
//
// Without a terminal the log keeps one entry per line, as docker's json-file does. With one (-t), docker logs raw
// chunks of the pty's output with "\r\n" line ends, all as "stdout". runc clears the container pty's ONLCR (it
// leaves that to the terminal it copies to, ours), so the log gets the CR put back, as ONLCR would; so does what we
// show when our stdout is not a terminal. A terminal gets the raw bytes: its own ONLCR adds the CR.

import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

type Stream = 'stdout' | 'stderr';

/** Where an attached run shows the output; absent when detached (the log only). */
export type Echo = ((chunk: Buffer, stream: Stream) => void) | undefined;

/** What the pty's ONLCR would have done: every "\n" written as "\r\n". */
export function onlcr(chunk: Buffer): Buffer {
  let n = 0;
  for (const b of chunk) if (b === 0x0a) n++;
  if (n === 0) return chunk;
  const out = Buffer.alloc(chunk.length + n);
  let j = 0;
  for (const b of chunk) {
    if (b === 0x0a) out[j++] = 0x0d;
    out[j++] = b;
  }
  return out;
}

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

/** A pty's output (runc's stdout with terminal true): chunks with "\r\n" into the log, raw to the echo. */
export function pipeTerminal(stream: Readable, file: string, echo: Echo): Promise<void> {
  if (stream.destroyed) return Promise.resolve();
  const text = new StringDecoder('utf8');
  stream.on('data', (c: Buffer) => {
    echo?.(c, 'stdout');
    const s = text.write(onlcr(c));
    if (s) appendFileSync(file, entry(s, 'stdout'));
  });
  return ended(stream);
}
