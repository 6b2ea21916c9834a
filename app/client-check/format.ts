import type { ClientInfo } from '../ingress/client-peek.ts';
import { seconds, type ClientFaultVerdict } from '../shared/client-faults.ts';

/**
 * A client check for a person: one line per fault — PASS or FAIL, time to recover, calls
 * lost, then what the client did (last, so that a long sentence does not push the columns).
 */
export function formatClientCheck(client: ClientInfo, verdicts: readonly ClientFaultVerdict[], lab?: string): string {
  const failed = verdicts.filter((v) => v.verdict === 'fail').length;
  const summary = failed ? `FAIL — ${failed} of ${verdicts.length} fault(s) not recovered from` : 'PASS — recovered from every fault that applied';
  const header = ['fault', 'verdict', 'recovered in', 'calls lost', 'what the client did'];
  const rows = verdicts.map((v) => [
    v.fault,
    v.verdict.toUpperCase(),
    v.recoveredInMs === null ? '—' : seconds(v.recoveredInMs),
    `${v.callsLost} of ${v.calls}`,
    `${v.outcome}: ${v.detail}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  return [
    `client ${client.name}${client.version ? ` ${client.version}` : ''}: ${summary}`,
    ...(lab ? [`  ${lab}`] : []),
    '',
    line(header),
    ...rows.map(line),
    '',
  ].join('\n');
}
