// Docker's detach keys: `--detach-keys` as docker spells them (comma-separated keys, each one character or
// `ctrl-X`), and a matcher over the typed byte stream that holds back a partial sequence until the next byte shows
// whether it is one.

import { UsageError } from '../cli/errors.ts';

/** docker's default: Ctrl-P Ctrl-Q. */
export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

const CTRL_SYMBOLS: Record<string, number> = { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 };

/** `ctrl-p,ctrl-q` → [0x10, 0x11]; a clear error naming the flag and the key that is not one. */
export function parseDetachKeys(spec: string, flag = '--detach-keys'): number[] {
  if (spec === '') throw new UsageError(`invalid ${flag} "": give one or more keys, e.g. ${DEFAULT_DETACH_KEYS}`);
  return spec.split(',').map((key) => {
    const ctrl = /^ctrl-(.)$/i.exec(key);
    if (ctrl) {
      const c = ctrl[1]!.toLowerCase();
      if (c >= 'a' && c <= 'z') return c.charCodeAt(0) - 0x60;
      if (c in CTRL_SYMBOLS) return CTRL_SYMBOLS[c]!;
    } else if (key.length === 1 && key.charCodeAt(0) >= 0x20 && key.charCodeAt(0) < 0x7f) {
      return key.charCodeAt(0);
    }
    throw new UsageError(`invalid ${flag} "${spec}": unknown key "${key}" (a printable character, or ctrl- with a-z, @, [, \\, ], ^ or _)`);
  });
}

/**
 * The matcher: returns what to pass on, and whether the whole sequence was typed (what came before it in the same
 * read is passed on; what follows it is dropped, as the client is leaving).
 */
export function detachKeys(seq: readonly number[] = parseDetachKeys(DEFAULT_DETACH_KEYS)): (chunk: Buffer) => { pass: Buffer; detach: boolean } {
  let held = 0; // how many bytes of `seq` the stream ends with, held back
  return (chunk) => {
    const out: number[] = [];
    for (const b of chunk) {
      // Where the held prefix plus `b` stops matching, its first byte is passed on and the rest tried again.
      let pending = [...seq.slice(0, held), b];
      held = 0;
      while (pending.length) {
        if (pending.every((x, i) => x === seq[i])) {
          held = pending.length;
          break;
        }
        out.push(pending[0]!);
        pending = pending.slice(1);
      }
      if (held === seq.length) return { pass: Buffer.from(out), detach: true };
    }
    return { pass: Buffer.from(out), detach: false };
  };
}
