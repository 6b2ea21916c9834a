import { describe as suite, expect, it } from 'vitest';
import type { LabEvent } from '../../../app/events.ts';
import type { PodView } from '../../../app/state/snapshot.ts';
import { describe, storyEvents } from './describe.ts';

const at = 1_700_000_000_000;
const pods: Record<string, PodView> = {
  'pod-2': { name: 'pod-2', state: 'dead', address: '127.0.0.1:4002', reason: 'killed', sessions: 0, requests: 9 },
  'pod-4': { name: 'pod-4', state: 'ready', address: '127.0.0.1:4004', reason: 'started', sessions: 1, requests: 1 },
};
const started: LabEvent = { type: 'recovery.started', at, replicaId: 'replica-1', sessionId: 'ab12cd34ef', fromPod: '127.0.0.1:4002', cause: 'connect-refused', generation: 0 };
const done: LabEvent = {
  type: 'recovery.done', at: at + 11, replicaId: 'replica-1', sessionId: 'ab12cd34ef', fromPod: '127.0.0.1:4002', toPod: '127.0.0.1:4004',
  cause: 'connect-refused', generation: 1, durationMs: 11.2, reused: false,
};

suite('the timeline', () => {
  it('tells a recovery as one story, pods named', () => {
    expect(describe(done, pods)).toEqual({
      kinds: ['recoveries'], tone: 'good',
      text: 'session ab12cd… lost pod-2 (connect refused) → re-initialized on pod-4 in 11 ms → replayed',
    });
  });

  it('drops the start of a recovery whose end is listed, keeps one still under way', () => {
    const other: LabEvent = { ...started, sessionId: 'zz99' };
    expect(storyEvents([started, other, done])).toEqual([other, done]);
  });

  it('counts a failed call as an error and names an address no pod has by the address', () => {
    const call: LabEvent = {
      type: 'traffic.call', at, client: 'client-3', sessionId: null, method: 'tools/call counter', ok: false, latencyMs: 3, status: 404, rpcCode: -32001, error: 'Session not found', count: null, stateLost: false,
    };
    expect(describe(call, pods)).toMatchObject({ kinds: ['sessions', 'errors'], tone: 'bad' });
    expect(describe(call, pods).text).toContain('HTTP 404, JSON-RPC -32001');
    const created: LabEvent = { type: 'session.created', at, replicaId: 'replica-2', sessionId: 's1', backendSessionId: 'b1', pod: '127.0.0.1:9', pinning: 'pod' };
    expect(describe(created, pods).text).toBe('session s1 created on 127.0.0.1:9 via replica-2 (pinning: pod)');
  });
});
