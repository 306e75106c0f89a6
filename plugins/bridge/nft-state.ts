// Reads tscni's bridge tables back and removes tagged elements: DEL by owner tag, GC by network tag.

import { applyNft, listNft } from '../../lib/nft/apply.ts';
import { CniError } from '../../lib/cni/errors.ts';
import type { NftCommand } from '../../lib/nft/apply.ts';
import { conflicting, deleteElements, exclusive, ownedElements, MASQ_FAMILY, SPOOF_FAMILY, TABLE, type OwnedElement } from './masq-rules.ts';

/** Every tagged element in tscni's masquerade and spoof-check tables (absent tables are simply empty). */
export async function listOwned(): Promise<OwnedElement[]> {
  const out: OwnedElement[] = [];
  for (const family of [MASQ_FAMILY, SPOOF_FAMILY]) {
    const listing = await listNft(['table', family, TABLE]);
    if (listing) out.push(...ownedElements(listing));
  }
  return out;
}

/** Deletes, in one transaction, every element whose comment passes `keep === false`. Returns what it removed. */
export async function removeOwned(select: (comment: string) => boolean): Promise<OwnedElement[]> {
  const doomed = (await listOwned()).filter((e) => select(e.comment));
  await applyNft(deleteElements(doomed));
  return doomed;
}

/**
 * Applies one attachment's batch. Elements are created exclusively, so no lookup is needed on the common path; if a
 * key is already taken by another owner's stale element (a crash before its DEL), that element is replaced by ours
 * in one transaction, so the later DEL or GC of the stale owner cannot remove this attachment's masquerade.
 */
export async function applyAttachment(batch: readonly NftCommand[], tag: string): Promise<void> {
  try {
    await applyNft(exclusive(batch));
  } catch (err) {
    if (!(err instanceof CniError && /File exists/.test(err.message))) throw err;
    const stale = conflicting(batch, await listOwned(), tag);
    await applyNft([...deleteElements(stale), ...batch]);
  }
}
