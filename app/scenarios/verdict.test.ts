import { describe, expect, it } from 'vitest';
import type { LabEvent } from '../events.ts';
import { verdictOf } from './verdict.ts';

const at = 1_800_000_000_000;
type Call = Extract<LabEvent, { type: 'traffic.call' }>;
const call = (extra: Partial<Call>): LabEvent => ({
  type: 'traffic.call', at, client: 'client-1', sessionId: 's1', method: 'tools/call counter', ok: true, latencyMs: 2, status: null, rpcCode: null,
  error: null, count: 1, stateLost: false, ...extra,
});
const created = (i: number, pod: string): LabEvent => ({
  type: 'session.created', at, replicaId: 'replica-1', sessionId: `s${i}`, backendSessionId: `b${i}`, pod, pinning: 'pod',
});
const endpoints: LabEvent = { type: 'service.endpoints', at, endpoints: ['http://127.0.0.1:9001/mcp', 'http://127.0.0.1:9002/mcp', 'http://127.0.0.1:9003/mcp'] };

describe('the verdict', () => {
  it('counts modern calls by their client\'s era, and only a legacy client\'s call without a session as sessionless', () => {
    const v = verdictOf([
      call({ era: 'modern', sessionId: null, method: 'tools/call cart.add' }),
      call({ era: 'modern', sessionId: null, ok: false, error: 'unknown cart', status: null }),
      call({ era: 'legacy', sessionId: null, method: 'ping' }),
      call({ sessionId: null, method: 'tools/list' }), // recorded before eras existed: legacy
      call({ era: 'legacy' }),
    ]);
    expect(v).toMatchObject({ requests: 5, modern: 1, sessionless: 2, clientErrors: 1 });
  });

  it('counts handle leaks from the lab\'s handle.leak events', () => {
    const leak: LabEvent = {
      type: 'handle.leak', at, handle: 'c7', mintedOn: 'pod-2', usedOn: 'pod-3', error: 'unknown cart', client: 'client-1', method: 'tools/call cart.add', mintedAt: at - 5,
    };
    expect(verdictOf([call({}), leak, leak]).handleLeaks).toBe(2);
    expect(verdictOf([call({})]).handleLeaks).toBe(0);
  });

  it('flags a pile-up of sessions on one pod while others are up, pods named where the events say', () => {
    const named: LabEvent = { type: 'pod.changed', at, pod: 'pod-1', state: 'ready', address: '127.0.0.1:9001', reason: 'started' };
    const sessions = Array.from({ length: 10 }, (_, i) => created(i, i < 9 ? '127.0.0.1:9001' : '127.0.0.1:9002'));
    expect(verdictOf([named, endpoints, ...sessions]).pileUp).toEqual({ pod: 'pod-1', what: 'sessions', share: 0.9, count: 9, of: 10 });
    // A pile-up whose sessions moved away on recovery, or with one pod up, is no pile-up.
    const moved: LabEvent[] = [0, 1, 2, 3].map((i) => ({
      type: 'recovery.done', at, replicaId: 'replica-1', sessionId: `s${i}`, fromPod: '127.0.0.1:9001', toPod: '127.0.0.1:9003', cause: 'connect-refused',
      generation: 1, durationMs: 3, reused: false,
    }));
    expect(verdictOf([endpoints, ...sessions, ...moved]).pileUp).toBeNull();
    expect(verdictOf([endpoints, ...sessions], { podsUp: 1 }).pileUp).toBeNull();
  });

  it('flags modern requests piled on one pod, counted on the pod that served each', () => {
    const routed = (pod: string): LabEvent => ({
      type: 'request.routed', at, replicaId: 'replica-1', httpMethod: 'POST', sessionId: null, pod, status: 200, durationMs: 1, recovered: false, era: 'modern',
    });
    const spread = Array.from({ length: 60 }, (_, i) => routed(`127.0.0.1:900${(i % 3) + 1}`));
    expect(verdictOf([endpoints, ...spread]).pileUp).toBeNull();
    const piled = Array.from({ length: 50 }, (_, i) => routed(i < 45 ? '127.0.0.1:9002' : '127.0.0.1:9003'));
    // Requests no pod was reached for are not anyone's load.
    expect(verdictOf([endpoints, ...piled, routed('service')]).pileUp).toEqual({ pod: '127.0.0.1:9002', what: 'requests', share: 0.9, count: 45, of: 50 });
  });
});
