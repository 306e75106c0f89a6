// An OCI distribution client for pulls: GET under /v2/<repo>/ with the auth handshake registries use — anonymous
// first; on 401 `WWW-Authenticate: Bearer realm=...,service=...,scope=...` fetch a token from the realm (with the
// `tscni login` credentials as Basic auth, if any) and retry; on `Basic` send the credentials. HTTPS, except for
// loopback and TSCNI_INSECURE_REGISTRIES registries.

import { Exit, RunnerError } from '../../cli/errors.ts';
import type { Credentials } from './credentials.ts';
import { isInsecure } from './reference.ts';

/** A stalled transfer (no byte for this long) is abandoned. */
export const IDLE_TIMEOUT_MS = 30_000;

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="https://auth",service="registry",scope="repository:x:pull"`. */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2].matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) params[p[1].toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  return { scheme: m[1].toLowerCase(), params };
}

/** The system's words for a failed connection (Node puts the code in `cause`, Bun on the error). */
function netReason(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string; message?: string }; message?: string; name?: string };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'no answer (timed out)';
  return e?.cause?.code ?? e?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}

export class RegistryClient {
  readonly base: string;
  readonly registry: string;
  readonly repo: string;
  private readonly creds: Credentials | undefined;
  private authorization: string | undefined;

  constructor(registry: string, apiHost: string, repo: string, creds: Credentials | undefined) {
    this.registry = registry;
    this.repo = repo;
    this.creds = creds;
    this.base = `${isInsecure(registry) ? 'http' : 'https'}://${apiHost}`;
  }

  private basic(): string | undefined {
    return this.creds ? `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password}`).toString('base64')}` : undefined;
  }

  private async fetch(url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Response> {
    try {
      return await fetch(url, { headers, redirect: 'follow', signal: signal ?? AbortSignal.timeout(IDLE_TIMEOUT_MS) });
    } catch (err) {
      throw new RunnerError(`cannot reach registry ${this.registry} (${url}): ${netReason(err)}`, Exit.Failure, { cause: err });
    }
  }

  /** Answers a 401's challenge: a Bearer token from the realm, or Basic credentials. */
  private async authenticate(res: Response): Promise<boolean> {
    const ch = parseChallenge(res.headers.get('www-authenticate') ?? '');
    if (ch?.scheme === 'basic') {
      this.authorization = this.basic();
      return this.authorization !== undefined;
    }
    if (ch?.scheme !== 'bearer' || !ch.params.realm) return false;
    const url = new URL(ch.params.realm);
    if (ch.params.service) url.searchParams.set('service', ch.params.service);
    const scope = ch.params.scope ?? (this.repo ? `repository:${this.repo}:pull` : undefined);
    if (scope) url.searchParams.set('scope', scope);
    const basic = this.basic();
    const tr = await this.fetch(url.toString(), basic ? { authorization: basic } : {});
    if (tr.status === 401 || tr.status === 403) throw new RunnerError(`unauthorized: ${this.registry} refused the credentials${this.creds ? '' : ' (none given: tscni login ' + this.registry + ')'}`);
    if (!tr.ok) throw new RunnerError(`token endpoint ${url.origin}${url.pathname} answered ${tr.status}`);
    const body = (await tr.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RunnerError(`token endpoint ${url.origin}${url.pathname} gave no token`);
    this.authorization = `Bearer ${token}`;
    return true;
  }

  /** GET `path` (under /v2/), authenticating once if asked to. Non-2xx answers are returned, not thrown. */
  async get(path: string, accept: string[] = [], signal?: AbortSignal): Promise<Response> {
    const url = `${this.base}/v2/${path}`;
    const headers = () => ({ ...(accept.length ? { accept: accept.join(', ') } : {}), ...(this.authorization ? { authorization: this.authorization } : {}) });
    let res = await this.fetch(url, headers(), signal);
    if (res.status === 401 && (await this.authenticate(res))) {
      await res.body?.cancel().catch(() => undefined);
      res = await this.fetch(url, headers(), signal);
    }
    if (res.status === 401 || res.status === 403) {
      throw new RunnerError(`unauthorized: ${this.registry} refused access to ${this.repo}${this.creds ? '' : ` (log in with tscni login ${this.registry})`}`);
    }
    return res;
  }

  /** Checks that the registry answers /v2/ with these credentials (what `tscni login` does). */
  async ping(): Promise<void> {
    const res = await this.get('');
    await res.body?.cancel().catch(() => undefined);
    if (!res.ok) throw new RunnerError(`${this.registry} answered ${res.status} to /v2/: not an OCI distribution registry?`);
  }
}

/** An error answer's own words (the registry's JSON `errors[].message`, else the status). */
export async function registryError(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const errs = JSON.parse(text).errors as { code?: string; message?: string }[];
    if (Array.isArray(errs) && errs.length) return errs.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
  } catch {
    // not JSON
  }
  return `HTTP ${res.status}`;
}
