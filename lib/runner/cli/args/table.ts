// Human output: aligned tables and docker-style durations ("5 seconds ago", "Up 2 minutes").

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('   ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 1) return 'Less than a second';
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.floor(s / 60);
  if (m < 60) return m === 1 ? 'About a minute' : `${m} minutes`;
  const h = Math.floor(m / 60);
  if (h < 48) return h === 1 ? 'About an hour' : `${h} hours`;
  return `${Math.floor(h / 24)} days`;
}

export function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '';
  return `${humanDuration(now - Date.parse(iso))} ago`;
}

export function humanSize(bytes: number): string {
  if (bytes < 1000) return `${bytes}B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)}kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)}MB`;
  return `${(bytes / 1e9).toFixed(2)}GB`;
}
