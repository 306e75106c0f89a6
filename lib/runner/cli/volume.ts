// `tscni volume create|ls|inspect|rm`.

import { randomBytes } from 'node:crypto';
import { parseArgs, bool } from './args/argv.ts';
import type { Ctx } from '../context.ts';
import { Exit, RunnerError, UsageError } from './errors.ts';
import { HELP } from './help.ts';
import { withLock } from '../lock.ts';
import { checkVolumeName } from '../volume/mount-specs.ts';
import { table } from './args/table.ts';

type Out = (s: string) => void;

export async function volume(ctx: Ctx, argv: string[], out: Out): Promise<number> {
  const [sub, ...rest] = argv;
  const p = parseArgs(rest, { bools: ['quiet', 'json'], aliases: { q: 'quiet' } }, `volume ${sub ?? ''}`.trim());
  if (sub === undefined || p.flags.help === true || sub === '--help' || sub === '-h') {
    out(HELP.volume + '\n');
    return sub === undefined ? Exit.Usage : Exit.Ok;
  }
  switch (sub) {
    case 'create': {
      if (p.positionals.length > 1) throw new UsageError('volume create: at most one NAME');
      const name = p.positionals[0] ?? randomBytes(32).toString('hex');
      checkVolumeName(name);
      await withLock(ctx.volumes.lock, async () => ctx.volumes.create(name));
      out(name + '\n');
      return Exit.Ok;
    }
    case 'ls': {
      const vols = ctx.volumes.list();
      if (bool(p, 'json')) out(JSON.stringify(vols, null, 2) + '\n');
      else if (bool(p, 'quiet')) for (const v of vols) out(v.Name + '\n');
      else out(table(['DRIVER', 'VOLUME NAME'], vols.map((v) => [v.Driver, v.Name])));
      return Exit.Ok;
    }
    case 'inspect': {
      if (p.positionals.length === 0) throw new UsageError('volume inspect: at least one NAME');
      out(JSON.stringify(p.positionals.map((n) => ctx.volumes.get(n)), null, 2) + '\n');
      return Exit.Ok;
    }
    case 'rm': {
      if (p.positionals.length === 0) throw new UsageError('volume rm: at least one NAME');
      let code: number = Exit.Ok;
      for (const n of p.positionals) {
        try {
          await withLock(ctx.volumes.lock, async () => ctx.volumes.remove(n, ctx.containers.all()));
          out(n + '\n');
        } catch (err) {
          process.stderr.write(`tscni: ${(err as Error).message}\n`);
          code = err instanceof RunnerError ? err.exitCode : Exit.Failure;
        }
      }
      return code;
    }
    default:
      throw new UsageError(`unknown volume command ${JSON.stringify(sub)}: create, ls, inspect or rm`);
  }
}
