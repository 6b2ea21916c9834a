import { describe, expect, it } from 'vitest';
import { UNKNOWN_OUTCOME } from '../../proxy-core/jsonrpc.ts';
import { callOutcome, UNKNOWN_OUTCOME_CODE } from './call-outcome.ts';

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
});
