// The GC verb's `cni.dev/valid-attachments` (spec 1.1; libcni before 1.2 sent `cni.dev/attachments`): one strict
// reading for every plugin, so host-local, bridge and portmap agree on what a bad list is.

import { invalidConfig } from './errors.ts';

export interface Attachment {
  readonly containerId: string;
  readonly ifname: string;
}

const VALID = 'cni.dev/valid-attachments';
const OLD = 'cni.dev/attachments';

/**
 * The attachments GC must keep. The list is required (without it GC cannot tell what is stale, so it removes
 * nothing) and every entry must be {"containerID": string, "ifname": string}; otherwise code 7 naming the field.
 */
export function validAttachments(conf: Record<string, unknown>): Attachment[] {
  const key = conf[VALID] !== undefined ? VALID : OLD;
  const list = conf[key];
  if (!Array.isArray(list)) throw invalidConfig(key, list ?? null, 'GC needs the list of valid attachments [{containerID, ifname}]');
  return list.map((a, i) => {
    const o = a as Record<string, unknown> | null;
    if (typeof o !== 'object' || o === null || typeof o.containerID !== 'string' || typeof o.ifname !== 'string') {
      throw invalidConfig(`${key}[${i}]`, a, 'must be {"containerID": string, "ifname": string}');
    }
    return { containerId: o.containerID, ifname: o.ifname };
  });
}
