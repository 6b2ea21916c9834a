import { describe, expect, it } from 'vitest';
import type { MatrixRow } from '../scenarios/matrix.ts';
import { verdictLine } from '../scenarios/verdict.ts';
import { brokenCombosOf, type BrokenCombo } from '../shared/broken-combos.ts';
import { formatBrokenCombos, formatMatrix } from './format.ts';
import { LAB_DEFAULTS } from '../config.ts';

const mode = { scenario: 'redis-outage', pinning: 'pod', recovery: true, affinity: 'round-robin', brokenCombos: [] as BrokenCombo[] } as const;
const verdict = {
  requests: 120, clientErrors: 1, recoverableErrors: 0, unknownOutcome: 1, recoveries: 3, stateLosses: 2, sessionless: 0, modern: 0, slowCalls: 0, longestWaitMs: 2310,
  latencyMs: { p50: 4.5, p99: 31 }, handleLeaks: 0, pileUp: null,
};

describe('the matrix table', () => {
  it('gives the numbers of a row that ran, and the reason of one that did not apply or failed', () => {
    const rows: MatrixRow[] = [
      { ...mode, store: 'redis', verdict, notApplicable: null, failed: null },
      { ...mode, store: 'memory', verdict: null, notApplicable: 'the lab uses the memory store: there is no Redis to break', failed: null },
      { ...mode, store: 'redis', recovery: false, verdict: null, notApplicable: null, failed: 'pod pod-1 did not start: exited with code 3\n  it printed: a | b\n' },
      {
        ...mode, store: 'redis', affinity: 'client-ip', brokenCombos: brokenCombosOf({ ...LAB_DEFAULTS, affinity: 'client-ip' }),
        verdict: { ...verdict, handleLeaks: 2, pileUp: { pod: 'pod-1', what: 'sessions', share: 0.9, count: 9, of: 10 } }, notApplicable: null, failed: null,
      },
    ];
    const lines = formatMatrix(rows).trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(
      /^\| scenario +\| store +\| pinning \| recovery \| affinity +\| requests \| recoverable errors \| outcome unknown \| recoveries \| state losses \| waits > 5 s \| longest wait ms \| p50 ms \| p99 ms \| note +\|$/,
    );
    expect(lines[2]).toMatch(/^\| redis-outage \| redis +\| pod +\| on +\| round-robin \| 120 +\| 0 +\| 1 +\| 3 +\| 2 +\| 0 +\| 2310 +\| 4\.5 +\| 31 +\| +\|$/);
    expect(lines[3]).toMatch(/\| n\/a +\| — .*\| the lab uses the memory store: there is no Redis to break +\|$/);
    // One line, its own column: the reason's newline and pipe do not break the table.
    expect(lines[4]).toMatch(/\| off +\| round-robin \| FAILED +\| — .*\| pod pod-1 did not start: exited with code 3; it printed: a \\\| b +\|$/);
    // A known broken combination is named on its row, beside what its numbers alone do not say.
    expect(lines[5]).toMatch(/\| client-ip +\| 120 .*\| known broken: client-IP affinity; 2 handle leak\(s\); pile-up: pod-1 holds 9 of 10 sessions \(90%\) while other pods idle +\|$/);
    expect(new Set(lines.map((line) => line.length)).size).toBe(1);
  });
});

describe('known broken combinations', () => {
  it('are one warning line each, and none for the default lab', () => {
    expect(formatBrokenCombos(LAB_DEFAULTS)).toBe('');
    const lines = formatBrokenCombos({ ...LAB_DEFAULTS, store: 'memory', pinning: 'service' }).trimEnd().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^warning: known broken combination — 2 replicas, each with its own memory store: .*"session not found".*choose the Redis store, or one replica\.$/),
      expect.stringMatching(/^warning: known broken combination — pinning to the service: .*choose pod pinning\.$/),
    ]);
  });
});

describe('the verdict line', () => {
  it('passes with no recoverable error, and says the calls answered "outcome unknown" beside it', () => {
    expect(verdictLine({ recoverableErrors: 0, unknownOutcome: 0 })).toBe('PASS — no recoverable error');
    expect(verdictLine({ recoverableErrors: 0, unknownOutcome: 2 })).toBe('PASS — no recoverable error (2 calls in flight answered "outcome unknown")');
    expect(verdictLine({ recoverableErrors: 1, unknownOutcome: 1 })).toBe('FAIL — 1 recoverable error seen by the clients (1 call in flight answered "outcome unknown")');
  });
});
