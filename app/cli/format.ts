import type { MatrixRow } from '../scenarios/matrix.ts';
import type { ScenarioResult } from '../scenarios/run.ts';

function mode(r: ScenarioResult): string {
  return `store ${r.config.store}, pinning ${r.config.pinning}, recovery ${r.config.recovery ? 'on' : 'off'}, affinity ${r.config.affinity}`;
}

/** A scenario's verdict for a person. */
export function formatVerdict(r: ScenarioResult): string {
  const verdict = r.clientErrors === 0 ? 'PASS — no client saw an error' : `FAIL — ${r.clientErrors} client-visible error(s)`;
  return [
    `scenario ${r.scenario}: ${verdict}`,
    `  lab: ${r.config.replicas} replica(s), ${r.config.pods} pod(s); ${mode(r)}`,
    `  ${r.runtime}`,
    `  requests ${r.requests}, client errors ${r.clientErrors}, recoveries ${r.recoveries}, state losses ${r.stateLosses}`,
    `  latency p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms`,
    ...r.errorSamples.map((e) => `  error: ${e}`),
    '',
  ].join('\n');
}

/** The matrix as one Markdown table; a row without numbers says why: n/a, or failed, with the reason. */
export function formatMatrix(rows: readonly MatrixRow[]): string {
  const header = ['scenario', 'store', 'pinning', 'recovery', 'requests', 'client errors', 'recoveries', 'state losses', 'p50 ms', 'p99 ms', 'note'];
  const cells = rows.map((r) => {
    const mode = [r.scenario, r.store, r.pinning, r.recovery ? 'on' : 'off'];
    const v = r.verdict;
    if (!v) return [...mode, r.notApplicable ? 'n/a' : 'FAILED', '—', '—', '—', '—', '—', cell(r.notApplicable ?? r.failed ?? '')];
    return [...mode, String(v.requests), String(v.clientErrors), String(v.recoveries), String(v.stateLosses), String(v.latencyMs.p50), String(v.latencyMs.p99), ''];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line), ''].join('\n');
}

/** A reason as one table cell: its lines joined into one, no column breaks. */
function cell(text: string): string {
  return text.trim().split(/\s*\n\s*/).join('; ').replace(/\s+/g, ' ').replace(/\|/g, '\\|');
}
