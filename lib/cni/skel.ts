// The plugin skeleton: the only module that reads CNI_* and stdin and writes stdout. Every plugin's main calls runPlugin.

import { readAll, writeAll } from '../kernel/fd-io.ts';
import { CniError, Code, toCniError } from './errors.ts';
import { checkWellKnownTypes } from './conf-types.ts';
import { readEnv, type CniEnv } from './env.ts';
import { validateNetworkName } from './names.ts';
import { checkNetnsPath, overridesNetnsCheck } from './netns-check.ts';
import { formatResult, parseResult, checkResultFitsVersion, type Result } from './result.ts';
import { atLeast, LATEST_VERSION, requireSupported, selectVersion, SUPPORTED_VERSIONS, isSupported, type CniVersion } from './version.ts';

export type NetConf = Record<string, unknown> & { name: string; cniVersion: string; type?: string };

export interface CallContext {
  readonly env: CniEnv;
  readonly version: CniVersion;
  readonly conf: NetConf;
  readonly stdin: Buffer;
  readonly prevResult?: Result;
  /** True when TSCNI_DRY_RUN=1: the plugin prints its plan and applies nothing. */
  readonly dryRun: boolean;
  readonly rawEnv: Record<string, string | undefined>;
  log(line: string): void;
}

export interface Plugin {
  about: string;
  /**
   * ADD/CHECK need CNI_NETNS to be a namespace file, and ADD/CHECK/DEL refuse the plugin's own network namespace
   * (code 4), unless this is false: a plugin that never enters CNI_NETNS (IPAM) takes the caller's own as well.
   */
  actsInNetns?: boolean;
  add(ctx: CallContext): Promise<Result | undefined>;
  del(ctx: CallContext): Promise<void>;
  check(ctx: CallContext): Promise<void>;
  status?(ctx: CallContext): Promise<void>;
  gc?(ctx: CallContext): Promise<void>;
  /** Optional dry-run answer for ADD/DEL: the plan as data. */
  plan?(ctx: CallContext): Promise<unknown>;
}

export interface Io {
  env: Record<string, string | undefined>;
  readStdin(): Buffer;
  stdout(s: string): void;
  stderr(s: string): void;
}

export const processIo: Io = {
  env: process.env,
  readStdin: () => {
    try {
      return readAll(0);
    } catch (err) {
      throw new CniError(Code.Io, `reading stdin: ${(err as Error).message}`);
    }
  },
  stdout: (s) => writeAll(1, s),
  stderr: (s) => writeAll(2, s),
};

/** Decodes stdin into a network config. Code 6 says where decoding failed. */
export function decodeConf(stdin: Buffer): Record<string, unknown> {
  const text = stdin.toString('utf8');
  if (text.trim() === '') throw new CniError(Code.Decode, 'error decoding network config: stdin is empty, expected a JSON object');
  let conf: unknown;
  try {
    conf = JSON.parse(text);
  } catch (err) {
    throw new CniError(Code.Decode, `error decoding network config: ${(err as Error).message}`);
  }
  if (typeof conf !== 'object' || conf === null || Array.isArray(conf)) {
    throw new CniError(Code.Decode, `error decoding network config: expected a JSON object, got ${Array.isArray(conf) ? 'an array' : typeof conf}`);
  }
  return conf as Record<string, unknown>;
}

/**
 * CNI_NETNS before any work: ADD and CHECK need a namespace file; ADD, CHECK and DEL refuse the plugin's own network
 * namespace unless the caller sets libcni's CNI_NETNS_OVERRIDE. DEL forgives a path that is gone or no longer a
 * namespace (unmounted): the plugin's DEL handles those.
 */
function checkTarget(env: CniEnv, rawEnv: Record<string, string | undefined>, actsInNetns: boolean): void {
  if (env.command !== 'ADD' && env.command !== 'CHECK' && env.command !== 'DEL') return;
  const allowSelf = !actsInNetns || overridesNetnsCheck(rawEnv);
  if (env.command === 'DEL' && (env.netns === '' || allowSelf)) return;
  checkNetnsPath(env.netns, { onlySelf: env.command === 'DEL', allowSelf });
}

function versionCall(io: Io): void {
  const stdin = io.readStdin();
  let version: string = LATEST_VERSION;
  if (stdin.toString().trim() !== '') {
    const conf = decodeConf(stdin);
    const given = (v: unknown) => v !== undefined && v !== null;
    if (given(conf.cniVersion) || given(conf.cniVersions)) version = requireSupported(selectVersion(conf));
  }
  io.stdout(JSON.stringify({ cniVersion: version, supportedVersions: SUPPORTED_VERSIONS }) + '\n');
}

async function call(plugin: Plugin, io: Io, env: CniEnv, state: { version: string }): Promise<void> {
  const stdin = io.readStdin();
  const raw = decodeConf(stdin);
  const selected = selectVersion(raw);
  if (isSupported(selected)) state.version = selected;
  validateNetworkName(raw.name);
  const version = requireSupported(selected);
  checkWellKnownTypes(raw);
  if (env.command === 'CHECK' && !atLeast(version, '0.4.0')) {
    throw new CniError(Code.IncompatibleVersion, `config version ${version} does not allow CHECK (needs 0.4.0 or later)`);
  }
  if ((env.command === 'GC' || env.command === 'STATUS') && !atLeast(version, '1.1.0')) {
    throw new CniError(Code.IncompatibleVersion, `config version ${version} does not allow ${env.command} (needs 1.1.0 or later)`);
  }
  // An env check, but after the version is known so that the error speaks it; before anything reads the config further.
  if (!io.env.TSCNI_DRY_RUN) checkTarget(env, io.env, plugin.actsInNetns !== false);
  const conf = { ...raw, cniVersion: version } as NetConf;
  let prevResult: Result | undefined;
  if (raw.prevResult !== undefined && raw.prevResult !== null) {
    try {
      prevResult = parseResult(raw.prevResult);
    } catch (err) {
      if (env.command !== 'DEL') throw err;
      io.stderr(`ignoring unreadable prevResult on DEL: ${(err as Error).message}\n`);
    }
  }
  const ctx: CallContext = {
    env,
    version,
    conf,
    stdin,
    prevResult,
    dryRun: io.env.TSCNI_DRY_RUN === '1',
    rawEnv: io.env,
    log: (line) => io.stderr(line.endsWith('\n') ? line : line + '\n'),
  };
  if (ctx.dryRun && plugin.plan && (env.command === 'ADD' || env.command === 'DEL')) {
    io.stdout(JSON.stringify({ tscniDryRun: true, plugin: conf.type, command: env.command, plan: await plugin.plan(ctx) }, null, 2) + '\n');
    return;
  }
  switch (env.command) {
    case 'ADD': {
      const result = await plugin.add(ctx);
      const out = result ?? prevResult ?? {};
      checkResultFitsVersion(out, version);
      io.stdout(JSON.stringify(formatResult(out, version)) + '\n');
      return;
    }
    case 'DEL':
      return plugin.del(ctx);
    case 'CHECK':
      return plugin.check(ctx);
    case 'STATUS':
      return plugin.status?.(ctx);
    case 'GC':
      return plugin.gc?.(ctx);
    default:
      throw new CniError(Code.InvalidEnv, `unknown CNI_COMMAND ${env.command}`);
  }
}

/** Runs one CNI call and returns the exit code; every failure becomes the spec's error JSON on stdout. */
export async function runPlugin(plugin: Plugin, io: Io = processIo): Promise<number> {
  const state = { version: LATEST_VERSION as string };
  try {
    const env = readEnv(io.env);
    if (!env) {
      io.stderr(`${plugin.about}\nCNI protocol versions supported: ${SUPPORTED_VERSIONS.join(', ')}\n`);
      return 0;
    }
    if (env.command === 'VERSION') {
      versionCall(io);
      return 0;
    }
    await call(plugin, io, env, state);
    return 0;
  } catch (err) {
    const e = toCniError(err);
    if (io.env.TSCNI_DEBUG && err instanceof Error) io.stderr(`${err.stack}\n`);
    io.stdout(JSON.stringify(e.toJSON(state.version)) + '\n');
    return 1;
  }
}

/** The whole main of a plugin executable: run, and turn even a crash into error JSON. */
export function pluginMain(plugin: Plugin): void {
  let done = false;
  const fail = (err: unknown) => {
    if (done) return;
    done = true;
    const e = toCniError(err);
    processIo.stdout(JSON.stringify(e.toJSON(LATEST_VERSION)) + '\n');
    process.exit(1);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  runPlugin(plugin).then(
    (code) => {
      done = true;
      process.exit(code);
    },
    fail,
  );
}
