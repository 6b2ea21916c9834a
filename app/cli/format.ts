import type { LabConfig } from '../config.ts';
import type { MatrixRow } from '../scenarios/matrix.ts';
import type { ScenarioResult } from '../scenarios/run.ts';
import { verdictLine } from '../scenarios/verdict.ts';
import { brokenComboLine, brokenCombosOf } from '../shared/broken-combos.ts';
import { SLOW_CALL_MS } from '../shared/call-outcome.ts';
import { pileUpLine } from '../shared/pile-up.ts';

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
    `  recoveries ${r.recoveries}, state losses ${r.stateLosses}; modern calls ${r.modern}, handle leaks ${r.handleLeaks}`,
    ...(r.pileUp ? [`  pile-up: ${pileUpLine(r.pileUp)}`] : []),
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
  const header = ['scenario', 'store', 'pinning', 'recovery', 'affinity', ...numbers, 'note'];
  const cells = rows.map((r) => {
    const mode = [r.scenario, r.store, r.pinning, r.recovery ? 'on' : 'off', r.affinity];
    const v = r.verdict;
    if (!v) return [...mode, r.notApplicable ? 'n/a' : 'FAILED', ...numbers.slice(1).map(() => '—'), cell(r.notApplicable ?? r.failed ?? '')];
    // The row's known broken combinations, and what its numbers alone do not say: leaks and a pile-up.
    const notes = [
      ...r.brokenCombos.map((c) => `known broken: ${c.title}`), ...(v.handleLeaks ? [`${v.handleLeaks} handle leak(s)`] : []), ...(v.pileUp ? [`pile-up: ${pileUpLine(v.pileUp)}`] : []),
    ];
    return [
      ...mode, ...[v.requests, v.recoverableErrors, v.unknownOutcome, v.recoveries, v.stateLosses, v.slowCalls, v.longestWaitMs, v.latencyMs.p50, v.latencyMs.p99].map(String),
      cell(notes.join('; ')),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line), ''].join('\n');
}

/** The known broken combinations of a lab's configuration, one warning line each ('' when there are none). */
export function formatBrokenCombos(config: LabConfig): string {
  return brokenCombosOf(config).map((combo) => `warning: ${brokenComboLine(combo)}\n`).join('');
}

/** A reason as one table cell: its lines joined into one, no column breaks. */
function cell(text: string): string {
  return text.trim().split(/\s*\n\s*/).join('; ').replace(/\s+/g, ' ').replace(/\|/g, '\\|');
}
