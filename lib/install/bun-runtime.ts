// Where the pinned Bun lives in node_modules. The `bun` package's postinstall moves the binary of its platform
// package (@oven/bun-<platform>-<arch>) over a placeholder `bin/bun.exe`; when install scripts did not run, the
// platform package still holds it. Either way the version must be the one package.json pins.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The absolute path of the pinned Bun binary under `root`; throws with what to do when it is missing. */
export function bunBinary(root: string): string {
  const pinned = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies.bun;
  const candidates = [
    join(root, 'node_modules/bun/bin/bun.exe'),
    join(root, `node_modules/@oven/bun-${process.platform}-${process.arch === 'x64' ? 'x64' : 'aarch64'}/bin/bun`),
  ];
  for (const c of candidates) {
    if (!existsSync(c) || statSync(c).size < 1_000_000) continue; // the placeholder is a few bytes
    const version = execFileSync(c, ['--version'], { encoding: 'utf8' }).trim();
    if (version !== pinned) throw new Error(`${c} is Bun ${version}, package.json pins ${pinned}: run npm ci`);
    return realpathSync(c);
  }
  throw new Error(`pinned Bun ${pinned} not found in node_modules (${candidates.join(', ')}): run npm ci`);
}
