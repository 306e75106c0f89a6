// What a test API server and its clients need: a self-signed certificate for kubernetes.default.svc (key.pem and
// ca.crt in `dir`, the layout fake-kube-nodes.ts reads) and a service-account directory as the kubelet mounts it.

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function makeApiCert(dir: string, ip: string): void {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'ca.crt'), '-days', '1',
    '-subj', '/CN=kubernetes', '-addext', `subjectAltName=DNS:kubernetes.default.svc,IP:${ip}`], { stdio: 'ignore' });
}

/** `dir`/serviceaccount with token, ca.crt and namespace; returns its path. */
export function serviceAccountDir(dir: string, token: string): string {
  const sa = join(dir, 'serviceaccount');
  mkdirSync(sa);
  writeFileSync(join(sa, 'token'), token + '\n');
  copyFileSync(join(dir, 'ca.crt'), join(sa, 'ca.crt'));
  writeFileSync(join(sa, 'namespace'), 'kube-system');
  return sa;
}
