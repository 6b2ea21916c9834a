import { describe, expect, it } from 'vitest';
import { UNKNOWN_OUTCOME } from '../../proxy-core/jsonrpc.ts';
import { callOutcome, countCall, NO_CALLS, UNKNOWN_OUTCOME_CODE } from './call-outcome.ts';

describe('what a call came to', () => {
  it('reads the proxy\'s own "outcome unknown" code (written twice: the UI cannot import proxy-core)', () => {
    expect(UNKNOWN_OUTCOME_CODE).toBe(UNKNOWN_OUTCOME);
  });

  it('is an honest "outcome unknown" only with that code; any other failure is recoverable', () => {
    expect(callOutcome({ ok: true, rpcCode: null })).toBe('ok');
    expect(callOutcome({ ok: false, rpcCode: UNKNOWN_OUTCOME })).toBe('unknown-outcome');
    expect(callOutcome({ ok: false, rpcCode: -32001 })).toBe('recoverable-error');
    expect(callOutcome({ ok: false, rpcCode: null })).toBe('recoverable-error');
  });

  it('a failed call the lab marked as a handle leak is counted as one, a client error but not a routing one', () => {
    const leaked = { ok: false, rpcCode: null, sessionId: null, latencyMs: 3, era: 'modern', handleLeak: true } as const;
    expect(callOutcome(leaked)).toBe('handle-leak');
    expect(countCall(NO_CALLS, leaked)).toMatchObject({ clientErrors: 1, handleLeaks: 1, recoverableErrors: 0, unknownOutcome: 0 });
  });
});
