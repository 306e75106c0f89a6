// Names that become kernel or file names (interfaces, networks, container ids, plugin types): one rule each, checked
// before anything is created, every failure `invalid <field> <value>: <why>` with the caller's code.

import { CniError, Code, type ErrorCode } from './errors.ts';

/** IFNAMSIZ (16) minus the NUL: the kernel refuses longer interface names. */
export const IFNAME_MAX = 15;

/**
 * A network name is a directory (`<dataDir>/<name>`) and part of libcni's cache file name
 * (`<name>-<containerId>-<ifname>`); 128 keeps that file name under NAME_MAX (255) for a 64-character container id.
 */
export const NETWORK_NAME_MAX = 128;

// libcni's rule for container ids and network names (pkg/utils/utils.go).
export const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

// The kernel takes any byte but NUL, "/", ":" and whitespace, and expands "%d"; tscni's sysctl paths
// (/proc/sys/net/.../conf/<name>/...) and owner tags carry only these, so a name outside them would fail half-way.
const IFNAME_CHAR = /[A-Za-z0-9_.-]/;

function fail(code: ErrorCode, field: string, value: unknown, why: string): CniError {
  return new CniError(code, `invalid ${field} ${JSON.stringify(value)}: ${why}`);
}

/** Why `name` cannot be a Linux interface name here, or undefined when it can. */
export function ifnameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `must be a string, got ${Array.isArray(name) ? 'an array' : name === null ? 'null' : typeof name}`;
  if (name === '') return 'must not be empty';
  const bad = [...name].find((c) => !IFNAME_CHAR.test(c));
  if (bad !== undefined) {
    const shown = /^[\x21-\x7e]$/.test(bad) ? JSON.stringify(bad) : `U+${bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    return `contains ${shown}; an interface name is 1-${IFNAME_MAX} characters of A-Z a-z 0-9 _ . -`;
  }
  if (name.length > IFNAME_MAX) return `is ${name.length} characters long; a Linux interface name has at most ${IFNAME_MAX}`;
  if (name === '.' || name === '..') return 'is not an interface name ("." and ".." are directories)';
  return undefined;
}

/** Checks an interface name (`bridge`, CNI_IFNAME, ...); code 7 for a config field, 4 for an env variable. */
export function checkIfname(name: unknown, field: string, code: ErrorCode = Code.InvalidConfig): string {
  const why = ifnameProblem(name);
  if (why !== undefined) throw fail(code, field, name, why);
  return name as string;
}

/** CNI_IFNAME: code 4 naming the variable. */
export function validateIfname(name: string | undefined): string {
  return checkIfname(name ?? '', 'CNI_IFNAME', Code.InvalidEnv);
}

/** The network name (config `name`): libcni's characters, and short enough to be a directory and a cache file name. */
export function validateNetworkName(name: unknown): string {
  if (name === undefined || name === null || name === '') throw new CniError(Code.InvalidConfig, 'missing network name');
  if (typeof name !== 'string') throw fail(Code.InvalidConfig, 'name', name, `must be a string, got ${Array.isArray(name) ? 'an array' : typeof name}`);
  if (!ID_RE.test(name)) throw fail(Code.InvalidConfig, 'name', name, `a network name must match ${ID_RE.source}`);
  if (name.length > NETWORK_NAME_MAX) {
    throw fail(Code.InvalidConfig, 'name', name, `a network name is at most ${NETWORK_NAME_MAX} characters (it names the directory <dataDir>/<name> and result cache files), this one is ${name.length}`);
  }
  return name;
}

/** CNI_CONTAINERID: empty is the spec's code 3, bad characters code 4 (libcni's rule). */
export function validateContainerId(id: string | undefined): string {
  if (id === undefined || id === '') throw new CniError(Code.UnknownContainer, 'missing containerID: CNI_CONTAINERID is empty');
  if (!ID_RE.test(id)) {
    throw new CniError(Code.InvalidEnv, `invalid characters in containerID: CNI_CONTAINERID ${JSON.stringify(id)} must match ${ID_RE.source}`);
  }
  return id;
}

/** A plugin type (`type`, `ipam.type`) is looked up as a file in CNI_PATH: a plain file name. */
export function checkPluginType(type: unknown, field: string): string {
  if (typeof type !== 'string') throw fail(Code.InvalidConfig, field, type, 'must be a plugin name (a string)');
  if (type === '' || type === '.' || type === '..' || /[/\0]/.test(type)) {
    throw fail(Code.InvalidConfig, field, type, 'must be a plugin name: a file name in CNI_PATH without "/"');
  }
  return type;
}
