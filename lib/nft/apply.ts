// The nftables seam: one `nft -j -f <private temp file>` transaction per call (lib/exec/process.ts, argv only) and JSON listings.

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CniError, Code } from '../cni/errors.ts';
import { captureOk } from '../exec/process.ts';

/** One nftables JSON command, e.g. { add: { table: {...} } } (see libnftables-json(5)). */
export type NftCommand = Record<string, unknown>;

// Never trust PATH for nft: npm puts node_modules/.bin first, and a package there ships a `nft` of its own.
const NFT_CANDIDATES = ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft'];
let nftPath: string | undefined;

export function nftBinary(): string {
  nftPath ??= NFT_CANDIDATES.find((p) => existsSync(p));
  if (!nftPath) throw new CniError(Code.Io, `nft not found (looked in ${NFT_CANDIDATES.join(', ')}): install Debian's nftables package`);
  return nftPath;
}

// The exec seam loads execa only when a verb really talks to nft (bench/README.md records what loading it costs).
function runNft(args: string[]): Promise<string> {
  return captureOk(nftBinary(), args, (why) => new CniError(Code.Io, `nft ${args.join(' ')} failed: ${why}`), { timeoutMs: 30_000 });
}

/** Applies a batch atomically: either every command takes effect or none does. */
export async function applyNft(batch: NftCommand[]): Promise<void> {
  if (batch.length === 0) return;
  // nft 1.0.6 reads `-f -` by opening /dev/stdin, which fails (ENXIO) on the socketpair Node gives a child as stdin,
  // so the batch goes through a private temp file instead.
  const dir = mkdtempSync(join(tmpdir(), 'tscni-nft-'));
  const file = join(dir, 'batch.json');
  try {
    writeFileSync(file, JSON.stringify({ nftables: [{ metainfo: { json_schema_version: 1 } }, ...batch] }), { mode: 0o600 });
    await runNft(['-j', '-f', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Lists an object (`list table inet tscni`, `list map inet tscni dnat4` ...) as parsed JSON, or undefined if absent. */
export async function listNft(what: string[]): Promise<Record<string, unknown>[] | undefined> {
  try {
    const out = await runNft(['-j', 'list', ...what]);
    return (JSON.parse(out) as { nftables: Record<string, unknown>[] }).nftables;
  } catch (err) {
    if (err instanceof CniError && /No such file or directory|does not exist/.test(err.message)) return undefined;
    throw err;
  }
}
