// Pull progress: on a TTY one line per layer, redrawn in place while it downloads ("a1b2c3d4e5f6: Downloading
// [=====>    ] 1.2MB/2.3MB"), then "Pull complete" / "Already exists"; nothing when quiet or not a TTY.

import { humanSize } from '../../cli/args/table.ts';

export interface Progress {
  layer(digest: string, status: string, done?: number, total?: number): void;
  end(digest: string, status: string): void;
}

export function bar(done: number, total: number, width = 30): string {
  const n = total > 0 ? Math.min(width, Math.floor((done / total) * width)) : 0;
  return `[${'='.repeat(n)}${n < width ? '>' : ''}${' '.repeat(Math.max(0, width - n - 1))}]`;
}

export function progressFor(quiet: boolean, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (quiet || !stream.isTTY) return { layer: () => undefined, end: () => undefined };
  let last = 0;
  const short = (d: string) => d.replace(/^sha256:/, '').slice(0, 12);
  return {
    layer(digest, status, done, total) {
      const now = Date.now();
      if (done !== undefined && done !== total && now - last < 100) return;
      last = now;
      const amount = done !== undefined && total ? ` ${bar(done, total)} ${humanSize(done)}/${humanSize(total)}` : '';
      stream.write(`\r\x1b[K${short(digest)}: ${status}${amount}`);
    },
    end(digest, status) {
      stream.write(`\r\x1b[K${short(digest)}: ${status}\n`);
    },
  };
}
