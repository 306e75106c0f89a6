// Where the pinned Bun lives in node_modules. The `bun` package's postinstall moves the binary of its platform
// package (@oven/bun-<platform>-<arch>) over a placeholder `bin/bun.exe`; when install scripts did not run, the
// platform package still holds it. Either way the installed package must be the version package.json pins.

import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';

const version = (pkgJson: string) => (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;

/** The absolute path of the pinned Bun binary under `root`; throws with what to do when it is missing. */
export function bunBinary(root: string): string {
  const pinned = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies.bun;
  const pkg = join(root, 'node_modules/bun');
  if (!existsSync(join(pkg, 'package.json'))) throw new Error(`pinned Bun ${pinned} not installed in ${pkg}: run npm ci`);
  if (version(join(pkg, 'package.json')) !== pinned) throw new Error(`${pkg} is Bun ${version(join(pkg, 'package.json'))}, package.json pins ${pinned}: run npm ci`);
  const platformPkg = join(root, `node_modules/@oven/bun-${process.platform}-${process.arch === 'x64' ? 'x64' : 'aarch64'}`);
  const candidates = [join(pkg, 'bin/bun.exe'), join(platformPkg, 'bin/bun')];
  // The placeholder is a few bytes; the real binary is tens of MB.
  const found = candidates.find((c) => existsSync(c) && statSync(c).size > 1_000_000);
  if (!found) throw new Error(`pinned Bun ${pinned}: no binary at ${candidates.join(' or ')} (the bun package's postinstall did not run): run npm ci`);
  return realpathSync(found);
}
