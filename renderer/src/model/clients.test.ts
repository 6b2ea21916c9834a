import { describe, expect, it } from 'vitest';
import type { ClientFaultVerdict } from '../../../app/shared/client-faults.ts';
import type { ClientView } from '../../../app/state/snapshot.ts';
import { checkSummary, externalClients, IDLE_MS, sessionlessClients, verdictRow, whyNotCheckable } from './clients.ts';

const at = 1_800_000_000_000;
const client = (name: string, changes: Partial<ClientView> = {}): ClientView => ({
  name, version: null, simulated: true, era: 'legacy', sessions: 0, sessionId: null, calls: 1, errors: 0, leaks: 0, lastPod: null, remoteAddress: null,
  firstSeen: at, lastSeen: at, ...changes,
});
const verdict = (changes: Partial<ClientFaultVerdict>): ClientFaultVerdict => ({
  fault: 'session-expiry', verdict: 'pass', outcome: 're-initialized', client: 'sdk-client', sessionId: 's1', newSessionId: 's2', recoveredInMs: 1234,
  calls: 10, callsFailed: 1, callsLost: 0, saw: ['HTTP 404 ×1'], detail: 'it sent a new initialize', startedAt: at, endedAt: at + 2000, ...changes,
});

describe('the clients the lab lists', () => {
  const clients = Object.fromEntries([
    client('client-10', { era: 'modern' }),
    client('client-2', { era: 'modern' }),
    client('client-1'),
    client('client-3', { era: 'modern', lastSeen: at - IDLE_MS - 1 }),
    client('agent', { simulated: false, era: 'both', sessions: 1, lastSeen: at - 5 }),
    client('inspector', { simulated: false, sessions: 2, lastSeen: at }),
  ].map((c) => [c.name, c]));

  it('lists the sessionless ones by name in number order, idle ones only when asked', () => {
    expect(sessionlessClients(clients, at, false).map((c) => c.name)).toEqual(['agent', 'client-2', 'client-10']);
    expect(sessionlessClients(clients, at, true).map((c) => c.name)).toEqual(['agent', 'client-2', 'client-3', 'client-10']);
  });

  it('lists the external ones, the most recently seen first', () => {
    expect(externalClients(clients).map((c) => c.name)).toEqual(['inspector', 'agent']);
  });

  it('checks only a client that opened a session, and says why not otherwise', () => {
    expect(whyNotCheckable(clients.inspector!)).toBeNull();
    expect(whyNotCheckable(client('modern-agent', { era: 'modern' }))).toMatch(/without a session.*has opened none/);
  });
});

describe('a client check\'s verdicts', () => {
  it('says each verdict in words, with what the client did, the time to recover and the calls lost', () => {
    expect(verdictRow(verdict({}))).toEqual({
      fault: 'session-expiry', verdict: 'PASS', tone: 'good', did: 're-initialized — it sent a new initialize', recovered: '1.2 s', callsLost: 0, saw: 'HTTP 404 ×1',
    });
    expect(verdictRow(verdict({ verdict: 'fail', outcome: 'stuck', recoveredInMs: null, callsLost: 7, saw: [] }))).toMatchObject({
      verdict: 'FAIL', tone: 'bad', recovered: '—', callsLost: 7, saw: '',
    });
    expect(verdictRow(verdict({ verdict: 'n/a', outcome: 'not-applicable' })).verdict).toBe('N/A');
  });

  it('sums a check up in one line', () => {
    expect(checkSummary([verdict({}), verdict({ verdict: 'fail' }), verdict({ verdict: 'n/a' })])).toBe('1 of 3 faults passed, 1 failed, 1 could not be aimed');
    expect(checkSummary([verdict({})])).toBe('1 of 1 fault passed, 0 failed');
  });
});
