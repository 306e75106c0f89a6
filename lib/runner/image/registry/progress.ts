// Pull progress: on a TTY one line per layer, in the manifest's order ("a1b2c3d4e5f6: Downloading [=====>    ]
// 1.2MB/2.3MB"), each redrawn in place while its layer moves on (up to three download at once), ending in
// "Pull complete" / "Already exists"; nothing when quiet or not a TTY.

import { humanSize } from '../../cli/args/table.ts';

export interface Progress {
  layer(digest: string, status: string, done?: number, total?: number): void;
  end(digest: string, status: string): void;
}

export function bar(done: number, total: number, width = 30): string {
  const n = total > 0 ? Math.min(width, Math.floor((done / total) * width)) : 0;
  return `[${'='.repeat(n)}${n < width ? '>' : ''}${' '.repeat(Math.max(0, width - n - 1))}]`;
}

/** The part of a terminal stream progress needs. */
export interface ProgressStream {
  isTTY?: boolean;
  write(s: string): unknown;
}

/** Redraws at most every `everyMs` per layer while it downloads (a status change is always drawn). */
export function progressFor(quiet: boolean, stream: ProgressStream = process.stderr, everyMs = 100, now = Date.now): Progress {
  if (quiet || !stream.isTTY) return { layer: () => undefined, end: () => undefined };
  const row = new Map<string, number>();
  const last = new Map<string, { status: string; at: number }>();
  const short = (d: string) => d.replace(/^sha256:/, '').slice(0, 12);
  const draw = (digest: string, text: string) => {
    const i = row.get(digest);
    if (i === undefined) {
      row.set(digest, row.size);
      stream.write(`${text}\n`);
      return;
    }
    // Up to the layer's line, rewrite it, back down below the last line.
    const up = row.size - i;
    stream.write(`\x1b[${up}A\r\x1b[K${text}\x1b[${up}B\r`);
  };
  return {
    layer(digest, status, done, total) {
      const t = now();
      const prev = last.get(digest);
      if (prev && prev.status === status && done !== undefined && done !== total && t - prev.at < everyMs) return;
      last.set(digest, { status, at: t });
      const amount = done !== undefined && total ? ` ${bar(done, total)} ${humanSize(done)}/${humanSize(total)}` : '';
      draw(digest, `${short(digest)}: ${status}${amount}`);
    },
    end(digest, status) {
      last.set(digest, { status, at: now() });
      draw(digest, `${short(digest)}: ${status}`);
    },
  };
}
