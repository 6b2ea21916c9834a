import { describe, expect, it } from 'vitest';
import type { LabEvent } from '../events.ts';
import { verdictOf } from '../scenarios/verdict.ts';
import type { ServerUnderTest } from '../server/under-test.ts';
import { reduce, reduceAll } from './reducer.ts';
import { emptySnapshot } from './snapshot.ts';

const at = 1_800_000_000_000;
const call = (t: number, ok: boolean, latencyMs: number, extra: Partial<Extract<LabEvent, { type: 'traffic.call' }>> = {}): LabEvent => ({
  type: 'traffic.call', at: t, client: 'client-1', sessionId: 's1', method: 'tools/call counter', ok, latencyMs, status: ok ? null : 404, rpcCode: null,
  error: ok ? null : 'Session not found', count: ok ? 1 : null, stateLost: false, ...extra,
});

const story: LabEvent[] = [
  { type: 'pod.changed', at, pod: 'pod-1', state: 'ready', address: '127.0.0.1:9001', reason: 'started' },
  { type: 'pod.changed', at, pod: 'pod-2', state: 'ready', address: '127.0.0.1:9002', reason: 'started' },
  { type: 'replica.changed', at, replica: 'replica-1', state: 'running', reason: 'started' },
  { type: 'session.created', at, replicaId: 'replica-1', sessionId: 's1', backendSessionId: 'b1', pod: '127.0.0.1:9001', pinning: 'pod' },
  { type: 'request.routed', at, replicaId: 'replica-1', httpMethod: 'POST', sessionId: 's1', pod: '127.0.0.1:9001', status: 200, durationMs: 1, recovered: false },
  { type: 'pod.changed', at, pod: 'pod-1', state: 'dead', address: '127.0.0.1:9001', reason: 'killed' },
  {
    type: 'recovery.done', at, replicaId: 'replica-1', sessionId: 's1', fromPod: '127.0.0.1:9001', toPod: '127.0.0.1:9002',
    cause: 'connect-refused', generation: 1, durationMs: 11, reused: false,
  },
];

describe('lab state reducer', () => {
  it('follows a session from its pod to the pod it was recovered on', () => {
    const s = reduceAll(emptySnapshot(), story);
    expect(s.version).toBe(story.length);
    expect(s.sessions.s1).toMatchObject({ pod: '127.0.0.1:9002', reinits: 1, requests: 1, lastReplica: 'replica-1' });
    expect(s.pods['pod-1']).toMatchObject({ state: 'dead', sessions: 0, requests: 1 });
    expect(s.pods['pod-2']).toMatchObject({ state: 'ready', sessions: 1 });
    expect(s.replicas['replica-1']!.requests).toBe(1);
    expect(s.totals.recoveries).toBe(1);
    expect(s.recent.map((e) => e.type)).not.toContain('request.routed');
  });

  it('never changes its input and shares what an event did not touch', () => {
    const before = reduceAll(emptySnapshot(), story.slice(0, 4));
    const frozen = JSON.stringify(before);
    const after = reduce(before, story[4]!);
    expect(JSON.stringify(before)).toBe(frozen);
    expect(after.endpoints).toBe(before.endpoints);
    expect(after.sessions).not.toBe(before.sessions);
  });

  it('folds client calls into a per-second series with errors and percentiles', () => {
    let s = emptySnapshot();
    for (let i = 0; i < 99; i++) s = reduce(s, call(at + i, true, 2));
    s = reduce(s, call(at + 500, true, 400));
    s = reduce(s, call(at + 1200, false, 3));
    expect(s.series).toHaveLength(1);
    expect(s.series[0]).toMatchObject({ t: at / 1000, calls: 100, errors: 0 });
    expect(s.series[0]!.p50).toBeGreaterThanOrEqual(2);
    expect(s.series[0]!.p50).toBeLessThan(2.6);
    expect(s.series[0]!.p99).toBeGreaterThanOrEqual(2);
    expect(s.totals).toMatchObject({ calls: 101, clientErrors: 1 });
    expect(s.recent.at(-1)).toMatchObject({ type: 'traffic.call', ok: false });
  });

  it('keeps the Redis key count, without a timeline line, and forgets it while Redis is down', () => {
    let s = reduce(emptySnapshot(), { type: 'redis.changed', at, up: true, reason: 'embedded' });
    s = reduce(s, { type: 'redis.keys', at, keys: 3 });
    expect(s.redis).toMatchObject({ up: true, keys: 3 });
    expect(s.recent.map((e) => e.type)).toEqual(['redis.changed']);
    s = reduce(s, { type: 'redis.changed', at, up: false, reason: 'stopped' });
    expect(s.redis.keys).toBeNull();
  });
});

describe('state losses and sessionless calls', () => {
  const server = (kind: ServerUnderTest['kind']): LabEvent => ({
    type: 'server.identified', at,
    server: { kind, source: kind, digest: null, name: 'x', version: '1', protocolVersion: '2025-11-25', sessions: true, tools: [], error: null },
  });
  const recovered = (sessionId: string, reused: boolean, generation = 1): LabEvent => ({
    type: 'recovery.done', at, replicaId: 'replica-1', sessionId, fromPod: '127.0.0.1:9001', toPod: '127.0.0.1:9002',
    cause: 'connect-refused', generation, durationMs: 5, reused,
  });
  const created = (sessionId: string): LabEvent => ({
    type: 'session.created', at, replicaId: 'replica-1', sessionId, backendSessionId: `b-${sessionId}`, pod: '127.0.0.1:9001', pinning: 'pod',
  });
  // Two sessions re-initialized (one of them by two requests at once), one counter that went back.
  const run: LabEvent[] = [
    created('s1'), created('s2'),
    call(at, true, 2, { count: 1 }),
    recovered('s1', false), recovered('s1', true), recovered('s2', false),
    call(at + 1, true, 2, { count: 1, stateLost: true }),
  ];

  it('on the demo backend, are what its counter shows; re-initializations are not counted twice', () => {
    const events = [server('demo'), ...run];
    const s = reduceAll(emptySnapshot(), events);
    expect(s.server?.kind).toBe('demo');
    expect(s.totals).toMatchObject({ recoveries: 2, stateLosses: 1 });
    expect(s.totals).toMatchObject({ recoveries: verdictOf(events).recoveries, stateLosses: verdictOf(events).stateLosses });
  });

  it('on any other server, are its re-initializations (reused ones not), per session too, as the verdict says', () => {
    const events = [server('command'), ...run];
    const s = reduceAll(emptySnapshot(), events);
    expect(s.totals).toMatchObject({ recoveries: 2, stateLosses: 2 });
    expect(s.sessions.s1).toMatchObject({ stateLost: 1, reinits: 1 });
    expect(s.sessions.s2).toMatchObject({ stateLost: 1 });
    expect(verdictOf(events)).toMatchObject({ recoveries: 2, stateLosses: 2 });
    // A verdict of a slice without the identity event is told the backend.
    expect(verdictOf(run, { demo: false }).stateLosses).toBe(2);
    expect(verdictOf(run).stateLosses, 'without it, as on the demo').toBe(1);
  });

  it('counts calls that succeeded without a session as sessionless, not errors; failed ones as errors', () => {
    const events = [
      server('image'),
      call(at, true, 2, { sessionId: null, count: null }),
      call(at + 1, true, 2, { sessionId: null, count: null }),
      call(at + 2, false, 2, { sessionId: null, status: 502 }),
      call(at + 3, true, 2),
    ];
    const s = reduceAll(emptySnapshot(), events);
    expect(s.totals).toMatchObject({ calls: 4, clientErrors: 1, sessionless: 2 });
    expect(verdictOf(events)).toMatchObject({ requests: 4, clientErrors: 1, sessionless: 2 });
  });
});
