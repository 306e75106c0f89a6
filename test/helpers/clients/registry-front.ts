// A fault-injecting front for a registry (run as its own process inside a test netns by registry.ts):
//   PORT     flips one byte of every blob larger than 4 kB (a corrupted layer: digest mismatch)
//   PORT+1   sends half of every blob larger than 4 kB, then cuts the connection (a registry dying mid-layer)
//   PORT+2   requires `Authorization: Bearer tok-1` on /v2/, answering 401 with a Bearer challenge whose realm is
//            its own /token; /token hands out tok-1 for Basic tester:s3cret only
//   PORT+3   sends half of every blob larger than 4 kB, then stalls (until the client goes away)
//   PORT+4   counts blob requests larger than 4 kB in flight (arrival to the end of the answer), holding each
//            answer until 3 are in flight or 1 s has passed, so a client fetching in parallel overlaps for sure;
//            GET /stats answers {"blobs": N, "maxInFlight": M} (a client fetching one at a time gets M = 1)
// Usage: node registry-front.ts PORT UPSTREAM_HOST:PORT

import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';

const [basePort, upstream] = [Number(process.argv[2]), process.argv[3]];
const BIG = 4096;
const TOKEN = 'tok-1';

type Mode = 'corrupt' | 'dying' | 'token' | 'stalling' | 'counting';

const counts = { blobs: 0, inFlight: 0, maxInFlight: 0 };

function forward(mode: Mode, req: IncomingMessage, res: ServerResponse): void {
  const [host, port] = upstream.split(':');
  const headers = { ...req.headers, host: upstream };
  delete headers.authorization;
  const up = request({ host, port: Number(port), path: req.url, method: req.method, headers }, (ur) => {
    const chunks: Buffer[] = [];
    ur.on('data', (c: Buffer) => chunks.push(c));
    ur.on('end', () => {
      let body = Buffer.concat(chunks);
      const blob = /\/blobs\/sha256:/.test(req.url ?? '') && req.method === 'GET' && ur.statusCode === 200 && body.length > BIG;
      if (blob && mode === 'corrupt') {
        body = Buffer.from(body);
        body[Math.floor(body.length / 2)] ^= 0xff;
      }
      if (blob && mode === 'counting') {
        counts.blobs++;
        counts.inFlight++;
        counts.maxInFlight = Math.max(counts.maxInFlight, counts.inFlight);
        res.once('close', () => counts.inFlight--);
        const since = Date.now();
        const hold = () => {
          if (counts.inFlight < 3 && Date.now() - since < 1000) return void setTimeout(hold, 10);
          res.writeHead(ur.statusCode ?? 502, ur.headers);
          res.end(body);
        };
        return hold();
      }
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      if (blob && mode === 'dying') {
        res.write(body.subarray(0, Math.floor(body.length / 2)), () => setTimeout(() => res.socket?.destroy(), 50));
        return;
      }
      if (blob && mode === 'stalling') {
        res.write(body.subarray(0, Math.floor(body.length / 2)));
        return;
      }
      res.end(body);
    });
  });
  up.on('error', () => res.writeHead(502).end());
  req.pipe(up);
}

function serve(mode: Mode, port: number): void {
  createServer((req, res) => {
    if (req.url === '/healthz') return void res.end('ok');
    if (req.url === '/stats') return void res.end(JSON.stringify({ blobs: counts.blobs, maxInFlight: counts.maxInFlight }));
    if (mode === 'token') {
      if (req.url?.startsWith('/token')) {
        const ok = req.headers.authorization === `Basic ${Buffer.from('tester:s3cret').toString('base64')}`;
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify(ok ? { token: TOKEN } : { errors: [{ code: 'UNAUTHORIZED' }] }));
      }
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        const repo = /^\/v2\/(.+)\/(?:manifests|blobs)\//.exec(req.url ?? '')?.[1];
        const scope = repo ? `,scope="repository:${repo}:pull"` : '';
        res.writeHead(401, { 'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="test-registry"${scope}`, 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      }
    }
    forward(mode, req, res);
  }).listen(port, '127.0.0.1');
}

serve('corrupt', basePort);
serve('dying', basePort + 1);
serve('token', basePort + 2);
serve('stalling', basePort + 3);
serve('counting', basePort + 4);
