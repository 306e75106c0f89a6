// Human output: aligned tables, docker-style durations and sizes, ps's status and ports columns.

import test from 'ava';
import { ago, humanDuration, humanSize, table } from '../../../../../lib/runner/cli/args/table.ts';
import { portsText, statusText } from '../../../../../lib/runner/cli/ps.ts';
import type { ContainerState } from '../../../../../lib/runner/container/store.ts';

test('table: columns padded to the widest cell, three spaces apart, the last column not padded', (t) => {
  t.is(table(['ID', 'NAME', 'PORTS'], [['1', 'web', '0.0.0.0:80->80/tcp'], ['22', 'a', '']]), 'ID   NAME   PORTS\n1    web    0.0.0.0:80->80/tcp\n22   a\n');
  t.is(table(['A', 'B'], []), 'A   B\n');
});

test('durations as docker words them', (t) => {
  t.is(humanDuration(-5), 'Less than a second');
  t.is(humanDuration(999), 'Less than a second');
  t.is(humanDuration(1000), '1 second');
  t.is(humanDuration(59_999), '59 seconds');
  t.is(humanDuration(60_000), 'About a minute');
  t.is(humanDuration(120_000), '2 minutes');
  t.is(humanDuration(3_600_000), 'About an hour');
  t.is(humanDuration(47 * 3_600_000), '47 hours');
  t.is(humanDuration(48 * 3_600_000), '2 days');
  t.is(ago('2026-01-01T00:00:00.000Z', Date.parse('2026-01-01T00:00:05.000Z')), '5 seconds ago');
  t.is(ago(undefined), '');
});

test('sizes in decimal units', (t) => {
  t.is(humanSize(999), '999B');
  t.is(humanSize(1000), '1.0kB');
  t.is(humanSize(1_234_567), '1.2MB');
  t.is(humanSize(2_500_000_000), '2.50GB');
});

test("ps: status words and the ports column", (t) => {
  const now = Date.parse('2026-01-01T01:00:00.000Z');
  const c = { created: '2026-01-01T00:00:00.000Z', startedAt: '2026-01-01T00:58:00.000Z', ports: [] } as unknown as ContainerState;
  t.is(statusText({ ...c, status: 'running' }, now), 'Up 2 minutes');
  t.is(statusText({ ...c, status: 'created' }, now), 'Created');
  t.is(statusText({ ...c, status: 'exited', exitCode: 3, finishedAt: '2026-01-01T00:59:55.000Z' }, now), 'Exited (3) 5 seconds ago');
  t.is(statusText({ ...c, status: 'exited', finishedAt: '2026-01-01T00:59:55.000Z' }, now), 'Exited (255) 5 seconds ago');
  t.is(portsText({ ports: [{ hostIP: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }, { hostIP: '127.0.0.1', hostPort: 53, containerPort: 53, protocol: 'udp' }] }), '0.0.0.0:8080->80/tcp, 127.0.0.1:53->53/udp');
});
