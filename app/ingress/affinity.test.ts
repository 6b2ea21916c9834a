import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { chooseReplica } from './affinity.ts';

const req = (headers: Record<string, string>, remoteAddress = '127.0.0.1') => ({ headers, socket: { remoteAddress } }) as unknown as IncomingMessage;
const live = ['replica-1', 'replica-2', 'replica-3'];

describe('affinity policies', () => {
  it('round-robin cycles through live replicas', () => {
    let n = 0;
    const picks = Array.from({ length: 6 }, () => chooseReplica('round-robin', req({}), live, () => n++));
    expect(picks).toEqual([...live, ...live]);
  });

  it('session-hash keeps a session on one replica; requests without a session go round-robin', () => {
    let n = 0;
    const pick = () => chooseReplica('session-hash', req({ 'mcp-session-id': 'abc' }), live, () => n++);
    expect(new Set(Array.from({ length: 10 }, pick)).size).toBe(1);
    expect(n).toBe(0);
    chooseReplica('session-hash', req({}), live, () => n++);
    expect(n).toBe(1);
  });

  it('client-ip hashes the address; cookie follows the cookie while its replica lives', () => {
    const rr = () => 0;
    expect(chooseReplica('client-ip', req({}, '10.0.0.1'), live, rr)).toBe(chooseReplica('client-ip', req({}, '10.0.0.1'), live, rr));
    expect(chooseReplica('cookie', req({ cookie: 'a=1; pinlab-replica=replica-3' }), live, rr)).toBe('replica-3');
    expect(chooseReplica('cookie', req({ cookie: 'pinlab-replica=replica-9' }), live, rr)).toBe('replica-1');
    expect(chooseReplica('round-robin', req({}), [], rr)).toBeUndefined();
  });
});
