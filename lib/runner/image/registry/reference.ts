// Image references as docker reads them: [registry[:port]/]repo[:tag][@sha256:hex]. "busybox" is
// docker.io/library/busybox:latest; a first component with a dot or a colon, or "localhost", names a registry.

import { UsageError } from '../../cli/errors.ts';

export interface ImageReference {
  /** The registry as written (docker.io for Docker Hub). */
  registry: string;
  /** Where its API answers (registry-1.docker.io for Docker Hub). */
  apiHost: string;
  /** The repository path inside the registry (library/busybox). */
  repo: string;
  tag?: string;
  digest?: string;
  /** The name images are listed under: docker.io's prefix (and library/) dropped, like docker. */
  localRepo: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST = /^(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?$/;

export function parseReference(ref: string): ImageReference {
  const bad = (why: string) => new UsageError(`invalid reference format ${JSON.stringify(ref)}: ${why}`);
  if (ref.length === 0 || ref.length > 255) throw bad('must be 1 to 255 characters');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad('the digest must be sha256: and 64 hex digits');
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`tag ${JSON.stringify(tag)}: letters, digits, _ . - only, at most 128`);
  }
  const parts = rest.split('/');
  let registry = 'docker.io';
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) {
    registry = parts.shift()!;
    if (!HOST.test(registry)) throw bad(`registry ${JSON.stringify(registry)}`);
  }
  if (parts.length === 0 || parts.some((p) => !COMPONENT.test(p))) throw bad('repository names are lowercase letters, digits and separators (. _ __ -)');
  if (registry === 'docker.io' && parts.length === 1) parts.unshift('library');
  const repo = parts.join('/');
  if (!tag && !digest) tag = 'latest';
  const localRepo = registry === 'docker.io' ? repo.replace(/^library\//, '') : `${registry}/${repo}`;
  return { registry, apiHost: registry === 'docker.io' ? 'registry-1.docker.io' : registry, repo, tag, digest, localRepo };
}

/** The reference as images lists it: repo:tag, or repo@digest when pulled by digest only. */
export function displayReference(r: ImageReference): string {
  return r.tag ? `${r.localRepo}:${r.tag}` : `${r.localRepo}@${r.digest}`;
}

/** Whether plain HTTP is allowed: loopback registries and those in TSCNI_INSECURE_REGISTRIES (comma-separated). */
export function isInsecure(registry: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const host = registry.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)) return true;
  const listed = (env.TSCNI_INSECURE_REGISTRIES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return listed.includes(registry) || listed.includes(host);
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export function parsePlatform(spec: string | undefined): Platform {
  if (spec === undefined) return { os: 'linux', architecture: ARCH[process.arch] ?? process.arch };
  const m = /^([a-z0-9]+)\/([a-z0-9_]+)(?:\/([a-z0-9]+))?$/.exec(spec);
  if (!m) throw new UsageError(`invalid --platform ${JSON.stringify(spec)}: expected OS/ARCH[/VARIANT], e.g. linux/amd64`);
  return { os: m[1], architecture: m[2], variant: m[3] };
}

export const platformString = (p: Platform) => [p.os, p.architecture, p.variant].filter(Boolean).join('/');
