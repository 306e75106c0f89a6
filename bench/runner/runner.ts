// Runner cycle: `tscni run -d -p` + `tscni rm -f` against `podman run -d -p` + `podman rm -f` (placeholder).

import type { Target } from '../chain/report.ts';

export async function runnerSection(_tscniDir: string, _cycles: number, targets: Target[]): Promise<string> {
  targets.push({ measure: 'runner run+rm cycle vs podman', target: '≤ 0.5', ref: 'n/a', tscni: 'n/a', ratio: NaN, limit: 0.5, note: 'not measured' });
  return '### Runner cycle\n\nnot measured';
}
