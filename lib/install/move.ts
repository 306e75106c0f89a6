// Moves a file or symlink, also across mount points (a DaemonSet mounts each host dir separately, so a backup in
// PREFIX and the file it saves in the CNI bin dir are on different mounts and rename(2) says EXDEV).

import { chmodSync, copyFileSync, lstatSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';

export function movePath(from: string, to: string): void {
  try {
    renameSync(from, to);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
  }
  const st = lstatSync(from);
  rmSync(to, { force: true });
  if (st.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
  else {
    copyFileSync(from, to);
    chmodSync(to, st.mode & 0o7777);
  }
  rmSync(from);
}
