// The executable form with a V8 code cache: a small loader that compiles the bundle (embedded as a string) with
// vm.Script and the cached data in `../.jscache/<name>.<bundle hash>.<verb>` (dist/.jscache, outside the CNI_PATH dir), and, when that cache is missing or rejected,
// writes one at exit, after the call ran, so it holds every function this verb compiled (V8's "cache after
// execute"). No `.jscache` directory (e.g. a `tscni install` prefix), no cache: the bundle is compiled as usual.

import { createHash } from 'node:crypto';

export const CACHE_DIR = '.jscache';

/** Names the cache by the bundle's content: V8 itself only checks the source length before trusting a cache. */
export const bundleHash = (bundle: string) => createHash('sha256').update(bundle).digest('hex').slice(0, 16);

/** The loader source; `bundle` is the esbuild output (CommonJS, its shebang line removed). */
export function codeCacheExecutable(nodeBin: string, bundle: string): string {
  return `#!${nodeBin}
"use strict";
{
  const fs = require("node:fs");
  const vm = require("node:vm");
  const path = require("node:path");
  const arg = process.env.CNI_COMMAND || process.argv[2] || "";
  const verb = /^[A-Za-z][A-Za-z-]{0,19}$/.test(arg) ? arg : "none";
  const cacheFile = path.join(__dirname, "..", ${JSON.stringify(CACHE_DIR)}, path.basename(__filename) + ".${bundleHash(bundle)}." + verb);
  let cachedData;
  try { cachedData = fs.readFileSync(cacheFile); } catch {}
  const src = ${JSON.stringify(`(function (exports, require, module, __filename, __dirname) {${bundle}\n})`)};
  const script = new vm.Script(src, { filename: __filename, cachedData, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once("exit", () => {
      try {
        const tmp = cacheFile + "." + process.pid + ".tmp";
        fs.writeFileSync(tmp, script.createCachedData());
        fs.renameSync(tmp, cacheFile);
      } catch {}
    });
  }
  script.runInThisContext()(exports, require, module, __filename, __dirname);
}
`;
}
