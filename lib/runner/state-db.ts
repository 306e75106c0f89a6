// The runner's state-file seam: the one module that opens lowdb for the runner (the container index and the image
// index). Each call reads the file afresh; callers hold the lock that guards their read-modify-write.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { LowSync } from 'lowdb';
import { JSONFileSync } from 'lowdb/node';

export type StateDb<T> = LowSync<T>;

/** Opens (and reads) the JSON document at `file`, `empty` when it does not exist yet; its directory is made 0700. */
export function openStateDb<T>(file: string, empty: T): StateDb<T> {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new LowSync<T>(new JSONFileSync<T>(file), empty);
  db.read();
  return db;
}
