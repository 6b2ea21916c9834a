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

describe('client errors, split', () => {
  it('tells recoverable errors from honest "outcome unknown" answers, and counts slow calls and the longest wait, as the verdict does', () => {
    const events = [
      call(at, true, 2),
      call(at + 1, false, 3),
      call(at + 2, false, 2150, { status: null, rpcCode: -32050, error: 'MCP error -32050: pod 127.0.0.1:9001 stopped answering; the call may or may not have run' }),
      call(at + 3, false, 40, { status: 502, error: 'bad gateway' }),
      call(at + 4, true, 6200.4),
    ];
    const s = reduceAll(emptySnapshot(), events);
    const split = { clientErrors: 3, recoverableErrors: 2, unknownOutcome: 1, slowCalls: 1, longestWaitMs: 6200 };
    expect(s.totals).toMatchObject({ calls: 5, ...split });
    expect(verdictOf(events)).toMatchObject({ requests: 5, ...split });
    expect(verdictOf(events).errorSamples, 'recoverable ones first').toEqual(['Session not found', 'bad gateway', expect.stringMatching(/-32050/)]);
  });
});

describe('health and calls waiting', () => {
  const pods: LabEvent[] = [
    { type: 'pod.changed', at, pod: 'pod-1', state: 'ready', address: '127.0.0.1:9001', reason: 'started' },
    { type: 'pod.changed', at, pod: 'pod-2', state: 'ready', address: '127.0.0.1:9002', reason: 'started' },
    { type: 'replica.changed', at, replica: 'replica-1', state: 'running', reason: 'started' },
    { type: 'replica.changed', at, replica: 'replica-2', state: 'running', reason: 'started' },
    { type: 'session.created', at, replicaId: 'replica-1', sessionId: 's1', backendSessionId: 'b1', pod: '127.0.0.1:9001', pinning: 'pod' },
    { type: 'session.created', at, replicaId: 'replica-2', sessionId: 's2', backendSessionId: 'b2', pod: '127.0.0.1:9001', pinning: 'pod' },
  ];
  const health = (replicaId: string, health: 'healthy' | 'unhealthy', reason: string, pod = '127.0.0.1:9001'): LabEvent => ({
    type: 'pod.health', at, replicaId, pod, health, reason, failures: health === 'healthy' ? 0 : 2,
  });
  const waiting = (replicaId: string, sessions: [string, number, number][], pod = '127.0.0.1:9001'): LabEvent => ({
    type: 'inflight.changed', at, replicaId, pod,
    calls: sessions.reduce((n, [, calls]) => n + calls, 0),
    oldestAt: sessions.length ? Math.min(...sessions.map(([, , oldestAt]) => oldestAt)) : null,
    sessions: sessions.map(([sessionId, calls, oldestAt]) => ({ sessionId, calls, oldestAt })),
  });

  it('marks a pod unhealthy per replica, with why; an answered probe clears that replica\'s mark', () => {
    let s = reduceAll(emptySnapshot(), [...pods, health('replica-1', 'unhealthy', 'no answer within 1000 ms'), health('replica-2', 'unhealthy', 'no answer within 1000 ms')]);
    expect(s.pods['pod-1']!.unhealthy).toEqual({ 'replica-1': 'no answer within 1000 ms', 'replica-2': 'no answer within 1000 ms' });
    expect(s.pods['pod-2']!.unhealthy).toEqual({});
    s = reduce(s, health('replica-1', 'healthy', 'answered 405'));
    expect(s.pods['pod-1']!.unhealthy).toEqual({ 'replica-2': 'no answer within 1000 ms' });
    // A healthy verdict on a pod no replica marked changes nothing.
    const same = reduce(s, health('replica-1', 'healthy', 'answered 405', '127.0.0.1:9002'));
    expect(same.pods).toBe(s.pods);
    expect(s.recent.filter((e) => e.type === 'pod.health')).toHaveLength(3);
  });

  it('forgets a replica\'s marks when it goes down or starts afresh (not while it drains), and the marks on a pod the service dropped', () => {
    let s = reduceAll(emptySnapshot(), [...pods, health('replica-1', 'unhealthy', 'x'), health('replica-2', 'unhealthy', 'y')]);
    s = reduce(s, { type: 'replica.changed', at, replica: 'replica-1', state: 'restarting', reason: 'draining, then restarting' });
    expect(Object.keys(s.pods['pod-1']!.unhealthy)).toEqual(['replica-1', 'replica-2']);
    s = reduce(s, { type: 'replica.changed', at, replica: 'replica-1', state: 'running', reason: 'restarted: memory gone, streams cut' });
    expect(s.pods['pod-1']!.unhealthy).toEqual({ 'replica-2': 'y' });
    s = reduce(s, { type: 'service.endpoints', at, endpoints: ['http://127.0.0.1:9002/mcp'] });
    expect(s.pods['pod-1']!.unhealthy).toEqual({});
  });

  it('adds up the calls waiting on a pod and on each session over every replica; the oldest start is the earliest', () => {
    let s = reduceAll(emptySnapshot(), [...pods, waiting('replica-1', [['s1', 1, at + 500]]), waiting('replica-2', [['s1', 1, at + 300], ['s2', 2, at + 700]])]);
    expect(s.pods['pod-1']!.waiting).toEqual({ calls: 4, oldestAt: at + 300 });
    expect(s.pods['pod-2']!.waiting).toEqual({ calls: 0, oldestAt: null });
    expect(s.sessions.s1!.waiting).toEqual({ calls: 2, oldestAt: at + 300 });
    expect(s.sessions.s2!.waiting).toEqual({ calls: 2, oldestAt: at + 700 });
    expect(s.recent.map((e) => e.type)).not.toContain('inflight.changed');

    // replica-2's calls answered: only replica-1's are left, on the pod and on s1; s2 waits for nothing.
    s = reduce(s, waiting('replica-2', []));
    expect(s.pods['pod-1']!.waiting).toEqual({ calls: 1, oldestAt: at + 500 });
    expect(s.sessions.s1!.waiting).toEqual({ calls: 1, oldestAt: at + 500 });
    expect(s.sessions.s2!.waiting).toEqual({ calls: 0, oldestAt: null });
    expect(Object.keys(s.inFlight)).toEqual(['replica-1 127.0.0.1:9001']);

    // A replica that goes down leaves no call waiting behind.
    s = reduce(s, { type: 'replica.changed', at, replica: 'replica-1', state: 'down', reason: 'killed' });
    expect(s.pods['pod-1']!.waiting).toEqual({ calls: 0, oldestAt: null });
    expect(s.sessions.s1!.waiting).toEqual({ calls: 0, oldestAt: null });
    expect(s.inFlight).toEqual({});
  });

  it('touches only the pod and the sessions a change is about', () => {
    const before = reduceAll(emptySnapshot(), [...pods, waiting('replica-1', [['s1', 1, at]])]);
    const after = reduce(before, waiting('replica-1', [['s1', 1, at]], '127.0.0.1:9002'));
    expect(after.pods['pod-1']).toBe(before.pods['pod-1']);
    expect(after.sessions.s2).toBe(before.sessions.s2);
    expect(after.sessions.s1!.waiting).toEqual({ calls: 2, oldestAt: at });
    // Calls through the service (sessionless, or service pinning) have no pod card: kept, counted per session only.
    const service = reduce(after, waiting('replica-1', [['s2', 1, at + 1]], 'service'));
    expect(service.pods).toBe(after.pods);
    expect(service.sessions.s2!.waiting).toEqual({ calls: 1, oldestAt: at + 1 });
  });
});

describe('clients seen', () => {
  const seen = (t: number, name: string, sessionId: string | null): Extract<LabEvent, { type: 'client.seen' }> => ({
    type: 'client.seen', at: t, sessionId, clientInfo: { name, version: '1.2.3' }, simulated: false, remoteAddress: '127.0.0.1',
  });

  it('keeps the lab\'s own clients by their traffic names, with the era of their calls, their sessions, errors and last pod', () => {
    const s = reduceAll(emptySnapshot(), [
      ...story.slice(0, 4),
      call(at + 1, true, 2, { pod: 'pod-1' }),
      call(at + 2, false, 2, { sessionId: 's2' }),
      call(at + 3, true, 3, { client: 'client-2', sessionId: null, era: 'modern', pod: 'pod-2' }),
      { type: 'handle.leak', at: at + 4, handle: 'cart-1', mintedOn: 'pod-1', usedOn: 'pod-2', error: 'unknown cart', client: 'client-2', method: 'tools/call cart.add', mintedAt: at },
    ]);
    expect(s.clients['client-1']).toMatchObject({ simulated: true, era: 'legacy', sessions: 2, sessionId: 's2', calls: 2, errors: 1, lastPod: 'pod-1', lastSeen: at + 2 });
    expect(s.clients['client-2']).toMatchObject({ era: 'modern', sessions: 0, sessionId: null, calls: 1, errors: 0, leaks: 1, lastPod: 'pod-2' });
  });

  it('lists an external client by its clientInfo, names it on its session, counts its sessions\' requests, and tells a dual-era client', () => {
    const routed: LabEvent = { type: 'request.routed', at: at + 5, replicaId: 'replica-1', httpMethod: 'POST', sessionId: 's1', pod: '127.0.0.1:9001', status: 200, durationMs: 1, recovered: false };
    const s = reduceAll(emptySnapshot(), [...story.slice(0, 4), seen(at + 1, 'inspector', 's1'), routed, seen(at + 6, 'agent', null)]);
    expect(s.clients.inspector).toMatchObject({ simulated: false, version: '1.2.3', era: 'legacy', sessions: 1, sessionId: 's1', calls: 1, lastSeen: at + 5, remoteAddress: '127.0.0.1' });
    expect(s.sessions.s1!.client).toBe('inspector');
    expect(s.clients.agent).toMatchObject({ era: 'modern', sessions: 0 });
    expect(reduce(s, seen(at + 7, 'agent', 's9')).clients.agent).toMatchObject({ era: 'both', sessions: 1, sessionId: 's9' });
    // The lab's own clients name themselves too: they are kept by their calls, not twice.
    expect(reduce(s, { ...seen(at + 8, 'pinlab-client-1', 's1'), simulated: true }).clients).toBe(s.clients);
  });
});
