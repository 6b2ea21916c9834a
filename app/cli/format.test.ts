import { describe, expect, it } from 'vitest';
import type { MatrixRow } from '../scenarios/matrix.ts';
import { verdictLine } from '../scenarios/verdict.ts';
import { formatMatrix } from './format.ts';

const mode = { scenario: 'redis-outage', pinning: 'pod', recovery: true } as const;
const verdict = {
  requests: 120, clientErrors: 1, recoverableErrors: 0, unknownOutcome: 1, recoveries: 3, stateLosses: 2, sessionless: 0, slowCalls: 0, longestWaitMs: 2310,
  latencyMs: { p50: 4.5, p99: 31 },
};

describe('the matrix table', () => {
  it('gives the numbers of a row that ran, and the reason of one that did not apply or failed', () => {
    const rows: MatrixRow[] = [
      { ...mode, store: 'redis', verdict, notApplicable: null, failed: null },
      { ...mode, store: 'memory', verdict: null, notApplicable: 'the lab uses the memory store: there is no Redis to break', failed: null },
      { ...mode, store: 'redis', recovery: false, verdict: null, notApplicable: null, failed: 'pod pod-1 did not start: exited with code 3\n  it printed: a | b\n' },
    ];
    const lines = formatMatrix(rows).trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(
      /^\| scenario +\| store +\| pinning \| recovery \| requests \| recoverable errors \| outcome unknown \| recoveries \| state losses \| waits > 5 s \| longest wait ms \| p50 ms \| p99 ms \| note +\|$/,
    );
    expect(lines[2]).toMatch(/^\| redis-outage \| redis +\| pod +\| on +\| 120 +\| 0 +\| 1 +\| 3 +\| 2 +\| 0 +\| 2310 +\| 4\.5 +\| 31 +\| +\|$/);
    expect(lines[3]).toMatch(/\| n\/a +\| — .*\| the lab uses the memory store: there is no Redis to break +\|$/);
    // One line, its own column: the reason's newline and pipe do not break the table.
    expect(lines[4]).toMatch(/\| off +\| FAILED +\| — .*\| pod pod-1 did not start: exited with code 3; it printed: a \\\| b +\|$/);
    expect(new Set(lines.map((line) => line.length)).size).toBe(1);
  });
});

describe('the verdict line', () => {
  it('passes with no recoverable error, and says the calls answered "outcome unknown" beside it', () => {
    expect(verdictLine({ recoverableErrors: 0, unknownOutcome: 0 })).toBe('PASS — no recoverable error');
    expect(verdictLine({ recoverableErrors: 0, unknownOutcome: 2 })).toBe('PASS — no recoverable error (2 calls in flight answered "outcome unknown")');
    expect(verdictLine({ recoverableErrors: 1, unknownOutcome: 1 })).toBe('FAIL — 1 recoverable error seen by the clients (1 call in flight answered "outcome unknown")');
  });
});
