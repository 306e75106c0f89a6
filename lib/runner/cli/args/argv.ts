// A small argv parser: --flag, --flag value, --flag=value, -f value, repeated flags, and a stop at the first
// positional when the command takes a trailing command line (run IMAGE CMD..., exec ID CMD...).

import { UsageError } from '../errors.ts';

export interface FlagSpec {
  /** Flags that take no value (with their short aliases). */
  bools?: string[];
  /** Flags that take a value. */
  values?: string[];
  /** Value flags that may repeat (collected into arrays). */
  multi?: string[];
  /** Short alias → long name, e.g. { d: 'detach', p: 'publish' }. */
  aliases?: Record<string, string>;
  /** Stop parsing flags at the first positional (the rest is a command line). */
  stopAtPositional?: boolean;
}

export interface Parsed {
  flags: Record<string, string | boolean | string[]>;
  positionals: string[];
}

export function parseArgs(argv: string[], spec: FlagSpec, command: string): Parsed {
  const bools = new Set(['help', ...(spec.bools ?? [])]);
  const values = new Set([...(spec.values ?? []), ...(spec.multi ?? [])]);
  const multi = new Set(spec.multi ?? []);
  const aliases = { h: 'help', ...(spec.aliases ?? {}) };
  const flags: Parsed['flags'] = {};
  const positionals: string[] = [];
  for (const m of multi) flags[m] = [];
  let i = 0;
  const set = (name: string, value: string | undefined, raw: string) => {
    if (bools.has(name)) {
      if (value !== undefined) throw new UsageError(`${command}: flag ${raw} takes no value`);
      flags[name] = true;
      return;
    }
    if (!values.has(name)) throw new UsageError(`${command}: unknown flag ${raw} (see tscni ${command} --help)`);
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`${command}: flag ${raw} needs a value`);
      value = argv[++i];
    }
    if (multi.has(name)) (flags[name] as string[]).push(value);
    else flags[name] = value;
  };
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      set(eq > 0 ? a.slice(2, eq) : a.slice(2), eq > 0 ? a.slice(eq + 1) : undefined, a);
    } else if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      // -d, -it (clustered booleans), -p 80:80, -p80:80
      const letters = a.slice(1);
      for (let j = 0; j < letters.length; j++) {
        const long = (aliases as Record<string, string>)[letters[j]] ?? letters[j];
        if (bools.has(long)) {
          set(long, undefined, `-${letters[j]}`);
          continue;
        }
        const rest = letters.slice(j + 1);
        set(long, rest === '' ? undefined : rest, `-${letters[j]}`);
        break;
      }
    } else {
      positionals.push(a);
      if (spec.stopAtPositional) {
        positionals.push(...argv.slice(i + 1));
        break;
      }
    }
  }
  return { flags, positionals };
}

export const str = (p: Parsed, k: string): string | undefined => (typeof p.flags[k] === 'string' ? (p.flags[k] as string) : undefined);
export const bool = (p: Parsed, k: string): boolean => p.flags[k] === true;
export const list = (p: Parsed, k: string): string[] => (Array.isArray(p.flags[k]) ? (p.flags[k] as string[]) : []);
