// A fake kube-apiserver for Node objects, run as its own process (inside a test netns): HTTPS with the key and
// certificate in argv[2], bearer token argv[3], listening on argv[4]:argv[5]. GET /api/v1/nodes lists, ?watch=1
// streams events. Each stdin line is an event ({"type": "ADDED"|"MODIFIED"|"DELETED", "object": node}) applied to
// the store and sent to every watcher; each request is printed on stdout as `METHOD URL AUTHORIZATION`.

import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const [dir, token, host, port] = process.argv.slice(2);
const nodes = new Map<string, any>();
const watchers = new Set<ServerResponse>();
let rv = 1;

const server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'ca.crt')) }, (req, res) => {
  process.stdout.write(`${req.method} ${req.url} ${req.headers.authorization}\n`);
  if (req.headers.authorization !== `Bearer ${token}`) return void res.writeHead(401).end('{"kind":"Status","code":401}');
  const url = new URL(req.url ?? '/', 'https://x');
  if (url.pathname !== '/api/v1/nodes') return void res.writeHead(404).end('{"kind":"Status","code":404}');
  if (url.searchParams.get('watch') !== '1') {
    return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'NodeList', metadata: { resourceVersion: String(rv) }, items: [...nodes.values()] }));
  }
  res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
  watchers.add(res);
  req.on('close', () => watchers.delete(res));
});

createInterface({ input: process.stdin }).on('line', (line) => {
  const ev = JSON.parse(line);
  ev.object.metadata.resourceVersion = String(++rv);
  if (ev.type === 'DELETED') nodes.delete(ev.object.metadata.name);
  else nodes.set(ev.object.metadata.name, ev.object);
  for (const w of watchers) w.write(JSON.stringify(ev) + '\n');
}).on('close', () => process.exit(0));

server.listen(Number(port), host, () => process.stdout.write('listening\n'));
