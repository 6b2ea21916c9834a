import type { MatrixRow } from '../scenarios/matrix.ts';
import type { ScenarioResult } from '../scenarios/run.ts';
import { verdictLine } from '../scenarios/verdict.ts';
import { SLOW_CALL_MS } from '../shared/call-outcome.ts';

function mode(r: ScenarioResult): string {
  return `store ${r.config.store}, pinning ${r.config.pinning}, recovery ${r.config.recovery ? 'on' : 'off'}, affinity ${r.config.affinity}`;
}

/** A scenario's verdict for a person. */
export function formatVerdict(r: ScenarioResult): string {
  return [
    `scenario ${r.scenario}: ${verdictLine(r)}`,
    `  lab: ${r.config.replicas} replica(s), ${r.config.pods} pod(s); ${mode(r)}`,
    `  ${r.runtime}`,
    `  requests ${r.requests}; client errors ${r.clientErrors}: recoverable ${r.recoverableErrors}, outcome unknown ${r.unknownOutcome}`,
    `  recoveries ${r.recoveries}, state losses ${r.stateLosses}`,
    `  waits: ${r.slowCalls} call(s) longer than ${SLOW_CALL_MS / 1000} s, the longest ${r.longestWaitMs} ms; latency p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms`,
    ...r.errorSamples.map((e) => `  error: ${e}`),
    '',
  ].join('\n');
}

/** The matrix as one Markdown table; a row without numbers says why: n/a, or failed, with the reason. */
export function formatMatrix(rows: readonly MatrixRow[]): string {
  const numbers = [
    'requests', 'recoverable errors', 'outcome unknown', 'recoveries', 'state losses', `waits > ${SLOW_CALL_MS / 1000} s`, 'longest wait ms', 'p50 ms', 'p99 ms',
  ];
  const header = ['scenario', 'store', 'pinning', 'recovery', ...numbers, 'note'];
  const cells = rows.map((r) => {
    const mode = [r.scenario, r.store, r.pinning, r.recovery ? 'on' : 'off'];
    const v = r.verdict;
    if (!v) return [...mode, r.notApplicable ? 'n/a' : 'FAILED', ...numbers.slice(1).map(() => '—'), cell(r.notApplicable ?? r.failed ?? '')];
    return [
      ...mode, ...[v.requests, v.recoverableErrors, v.unknownOutcome, v.recoveries, v.stateLosses, v.slowCalls, v.longestWaitMs, v.latencyMs.p50, v.latencyMs.p99].map(String), '',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line), ''].join('\n');
}

/** A reason as one table cell: its lines joined into one, no column breaks. */
function cell(text: string): string {
  return text.trim().split(/\s*\n\s*/).join('; ').replace(/\s+/g, ' ').replace(/\|/g, '\\|');
}
