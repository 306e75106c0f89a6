// Reads tscni's bridge tables back and removes tagged elements: DEL by owner tag, GC by network tag.

import { applyNft, listNft } from '../../lib/nft/apply.ts';
import { deleteElements, ownedElements, MASQ_FAMILY, SPOOF_FAMILY, TABLE, type OwnedElement } from './masq-rules.ts';

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
