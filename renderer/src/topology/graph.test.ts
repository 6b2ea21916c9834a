import { describe, expect, it } from 'vitest';
import type { LabEvent } from '../../../app/events.ts';
import { evictEnded, KEEP_ENDED_SESSIONS, reduce, reduceAll, reduceLive } from '../../../app/state/reducer.ts';
import { emptySnapshot, type LabSnapshot } from '../../../app/state/snapshot.ts';
import { emptyActivity, noteActivity, pruneActivity, SESSIONLESS_HALF_LIFE_MS, sessionlessFlows } from '../state/apply.ts';
import { BUNDLE_ABOVE, buildGraph, hueOf, liveSessions, type GraphStatus } from './graph.ts';
import { bundlePaths, fanPaths, focusPath, layoutKey, layoutTopology, slots } from './layout.ts';

const at = 1_700_000_000_000;
const A = '127.0.0.1:4001';
const B = '127.0.0.1:4002';
const C = '127.0.0.1:4003';

const status: GraphStatus = {
  ingressUrl: 'http://127.0.0.1:7400/mcp',
  replicas: [
    { id: 'replica-1', state: 'running', port: 5001, url: 'http://127.0.0.1:5001/mcp', generation: 1 },
    { id: 'replica-2', state: 'running', port: 5002, url: 'http://127.0.0.1:5002/mcp', generation: 1 },
  ],
  config: { store: 'redis', pinning: 'pod', affinity: 'round-robin' },
};

function lab(extra: LabEvent[] = []): LabSnapshot {
  const events: LabEvent[] = [
    { type: 'redis.changed', at, up: true, reason: 'embedded' },
    { type: 'pod.changed', at, pod: 'pod-1', state: 'ready', address: A, reason: 'started' },
    { type: 'pod.changed', at, pod: 'pod-2', state: 'ready', address: B, reason: 'started' },
    { type: 'replica.changed', at, replica: 'replica-1', state: 'running', reason: 'started' },
    { type: 'replica.changed', at, replica: 'replica-2', state: 'running', reason: 'started' },
    created('s1', A, 'replica-1'),
    created('s2', B, 'replica-2'),
    call('client-1', 's1'),
    call('client-2', 's2'),
    ...extra,
  ];
  return reduceAll(emptySnapshot(), events);
}

function created(sessionId: string, pod: string, replicaId: string): LabEvent {
  return { type: 'session.created', at, replicaId, sessionId, backendSessionId: `b-${sessionId}`, pod, pinning: 'pod' };
}

function routed(sessionId: string, pod: string, times: number): LabEvent[] {
  return Array.from({ length: times }, () => ({
    type: 'request.routed' as const, at, replicaId: 'replica-1', httpMethod: 'POST', sessionId, pod, status: 200, durationMs: 1, recovered: false,
  }));
}

function call(client: string, sessionId: string): LabEvent {
  return { type: 'traffic.call', at, client, sessionId, method: 'tools/call counter', ok: true, latencyMs: 5, status: null, rpcCode: null, error: null, count: 1, stateLost: false };
}

describe('buildGraph', () => {
  it('draws one line per session from its client through its last replica to its pod', () => {
    const graph = buildGraph(lab(), status);
    expect(graph.clients.map((c) => c.id)).toEqual(['client-1', 'client-2']);
    expect(graph.sessions.map(({ id, client, replica, pod, broken }) => ({ id, client, replica, pod, broken }))).toEqual([
      { id: 's1', client: 'client-1', replica: 'replica-1', pod: 'pod-1', broken: null },
      { id: 's2', client: 'client-2', replica: 'replica-2', pod: 'pod-2', broken: null },
    ]);
    expect(graph.replicas.map((r) => [r.id, r.address, r.sessions])).toEqual([
      ['replica-1', '127.0.0.1:5001', 1],
      ['replica-2', '127.0.0.1:5002', 1],
    ]);
    expect(graph.pods.map((p) => [p.name, p.sessions, p.inService])).toEqual([
      ['pod-1', 1, true],
      ['pod-2', 1, true],
    ]);
    expect(graph.ingress).toEqual({ address: '127.0.0.1:7400', affinity: 'round-robin' });
  });

  it('moves a recovered session to its new pod and replica', () => {
    const graph = buildGraph(lab([
      { type: 'pod.changed', at, pod: 'pod-1', state: 'dead', address: A, reason: 'killed' },
      { type: 'pod.changed', at, pod: 'pod-3', state: 'ready', address: C, reason: 'started' },
      { type: 'recovery.done', at, replicaId: 'replica-2', sessionId: 's1', fromPod: A, toPod: C, cause: 'connect-refused', generation: 1, durationMs: 9, reused: false },
    ]), status);
    const s1 = graph.sessions.find((s) => s.id === 's1')!;
    expect(s1).toMatchObject({ pod: 'pod-3', replica: 'replica-2', broken: null });
    expect(graph.pods.find((p) => p.name === 'pod-1')).toMatchObject({ state: 'dead', sessions: 0, inService: false });
  });

  it('marks a session pinned to a dead pod, before any recovery, as broken', () => {
    const graph = buildGraph(lab([{ type: 'pod.changed', at, pod: 'pod-1', state: 'dead', address: A, reason: 'killed' }]), status);
    expect(graph.sessions.find((s) => s.id === 's1')).toMatchObject({ pod: 'pod-1', broken: 'dead' });
  });

  it('marks a session pinned to a pod a replica finds unhealthy as broken too, and gives that pod\'s card room to say so', () => {
    const unhealthy: LabEvent = { type: 'pod.health', at, replicaId: 'replica-1', pod: A, health: 'unhealthy', reason: 'no answer within 1000 ms', failures: 2 };
    const graph = buildGraph(lab([{ type: 'pod.changed', at, pod: 'pod-1', state: 'paused', address: A, reason: 'paused' }, unhealthy]), status);
    expect(graph.sessions.map((s) => [s.id, s.broken])).toEqual([['s1', 'unhealthy'], ['s2', null]]);
    expect(graph.pods.find((p) => p.name === 'pod-1'), 'a paused pod stays in the service').toMatchObject({ state: 'paused', inService: true });
    const before = layoutTopology(buildGraph(lab(), status), 1280);
    const after = layoutTopology(graph, 1280);
    expect(after.pods.get('pod-1')!.h).toBeGreaterThan(before.pods.get('pod-1')!.h);
    expect(after.pods.get('pod-2')!.h).toBe(before.pods.get('pod-2')!.h);
    // Healthy again: the mark and the extra room go.
    const healthy = buildGraph(lab([unhealthy, { ...unhealthy, health: 'healthy', reason: 'answered 405', failures: 0 }]), status);
    expect(healthy.sessions.map((s) => s.broken)).toEqual([null, null]);
    expect(layoutTopology(healthy, 1280).pods.get('pod-1')!.h).toBe(before.pods.get('pod-1')!.h);
  });

  it('keeps only the newest dead pods, and any a session is still pinned to', () => {
    const deaths: LabEvent[] = [];
    for (let i = 3; i <= 7; i++) {
      deaths.push({ type: 'pod.changed', at, pod: `pod-${i}`, state: 'ready', address: `127.0.0.1:${5000 + i}`, reason: 'started' });
      deaths.push({ type: 'pod.changed', at, pod: `pod-${i}`, state: 'dead', address: `127.0.0.1:${5000 + i}`, reason: 'killed' });
    }
    deaths.push({ type: 'pod.changed', at, pod: 'pod-1', state: 'dead', address: A, reason: 'killed' });
    const graph = buildGraph(lab(deaths), status, { keepDeadPods: 2 });
    // pod-1 holds s1 still; pod-6 and pod-7 are the newest of the rest.
    expect(graph.pods.map((p) => p.name)).toEqual(['pod-1', 'pod-2', 'pod-6', 'pod-7']);
    expect(graph.hiddenDeadPods).toBe(3);
  });

  it('draws only the newest session of each simulated client, and none that was deleted', () => {
    const snapshot = lab([
      created('s3', B, 'replica-1'),
      call('client-1', 's3'),
      { type: 'session.deleted', at, replicaId: 'replica-2', sessionId: 's2', pod: B, podStatus: 200 },
    ]);
    expect(liveSessions(snapshot.sessions).map((s) => s.id)).toEqual(['s3']);
    expect(buildGraph(snapshot, status).clients.map((c) => c.id)).toEqual(['client-1']);
  });

  it('gives an external client (not one of the lab\'s) a node of its own once it uses its session', () => {
    const graph = buildGraph(lab([created('x1', A, 'replica-1'), ...routed('x1', A, 3)]), status);
    expect(graph.clients.at(-1)).toEqual({ id: 'external:x1', label: 'external', external: true });
    expect(graph.sessions.at(-1)).toMatchObject({ id: 'x1', client: 'external:x1', pod: 'pod-1' });
  });

  it('leaves out unclaimed sessions that never went past the handshake, or went idle', () => {
    const handshakeOnly = buildGraph(lab([created('x1', A, 'replica-1'), ...routed('x1', A, 2)]), status);
    expect(handshakeOnly.clients.some((c) => c.external)).toBe(false);
    const snapshot = lab([created('x1', A, 'replica-1'), ...routed('x1', A, 5)]);
    const seen = new Map([['x1', at]]);
    expect(buildGraph(snapshot, status, { seen, now: at + 1000 }).clients.some((c) => c.external)).toBe(true);
    expect(buildGraph(snapshot, status, { seen, now: at + 10 * 60_000 }).clients.some((c) => c.external)).toBe(false);
  });

  it('ends a session whose record pins the service at the service, not at a pod', () => {
    const graph = buildGraph(lab(), status, { pinning: new Map([['s1', 'service']]) });
    expect(graph.sessions.find((s) => s.id === 's1')).toMatchObject({ pod: null, broken: null });
  });

  it('links replicas to Redis, down when Redis is', () => {
    const up = buildGraph(lab(), status).links.filter((l) => l.kind === 'replica-store');
    expect(up.map((l) => [l.from, l.up])).toEqual([['replica-1', true], ['replica-2', true]]);
    const down = buildGraph(lab([{ type: 'redis.changed', at, up: false, reason: 'stopped' }]), status);
    expect(down.store).toEqual({ kind: 'redis', up: false, reason: 'stopped', keys: null, external: false });
    expect(down.links.filter((l) => l.kind === 'replica-store').every((l) => !l.up)).toBe(true);
    const memory = buildGraph(lab(), { ...status, config: { ...status.config, store: 'memory' } });
    expect(memory.links.some((l) => l.kind === 'replica-store')).toBe(false);
  });

  it('counts the session records Redis holds, and tells an external Redis from the lab\'s own', () => {
    const counted = buildGraph(lab([{ type: 'redis.keys', at, keys: 12 }]), { ...status, config: { ...status.config, redisUrl: 'redis://127.0.0.1:6380' } });
    expect(counted.store).toMatchObject({ kind: 'redis', up: true, keys: 12, external: true });
    expect(buildGraph(lab(), status).store).toMatchObject({ keys: null, external: false });
    // An external Redis has no up/down of the lab's: a count that succeeded says it answers.
    const externalStatus = { ...status, config: { ...status.config, redisUrl: 'redis://127.0.0.1:6380' } };
    const quiet = (events: LabEvent[]) => reduceAll(emptySnapshot(), events);
    expect(buildGraph(quiet([]), externalStatus).store.up).toBeNull();
    expect(buildGraph(quiet([{ type: 'redis.keys', at, keys: 0 }]), externalStatus).store.up).toBe(true);
  });

  it('lists in the service only the pods of the latest endpoints', () => {
    const graph = buildGraph(lab([{ type: 'service.endpoints', at, endpoints: [`http://${B}/mcp`] }]), status);
    expect(graph.pods.map((p) => [p.name, p.inService])).toEqual([['pod-1', false], ['pod-2', true]]);
    expect(graph.service.endpoints).toBe(1);
  });

  it('takes the set of replicas from the status (scaling emits no event), their state from events', () => {
    const scaled: GraphStatus = { ...status, replicas: [status.replicas[0]!, { id: 'replica-3', state: 'running', port: 5003, url: 'http://127.0.0.1:5003/mcp', generation: 1 }] };
    const graph = buildGraph(lab([{ type: 'replica.changed', at, replica: 'replica-1', state: 'down', reason: 'killed' }]), scaled);
    expect(graph.replicas.map((r) => [r.id, r.state, r.address])).toEqual([['replica-1', 'down', '127.0.0.1:5001'], ['replica-3', 'running', '127.0.0.1:5003']]);
    // s2 last went through replica-2, which is gone.
    expect(graph.sessions.find((s) => s.id === 's2')!.replica).toBeNull();
  });

  it('works without a status (the lab not asked yet) and with an empty lab', () => {
    expect(buildGraph(lab(), null).ingress).toEqual({ address: null, affinity: null });
    const empty = buildGraph(emptySnapshot(), null);
    expect(empty).toMatchObject({ clients: [], replicas: [], pods: [], sessions: [], links: [], store: { kind: 'unknown', up: null } });
  });

  it('colours a client the same way every time, neighbours far apart', () => {
    expect(hueOf('external:abc')).toBe(hueOf('external:abc'));
    expect(hueOf('external:abc')).toBeGreaterThanOrEqual(0);
    expect(hueOf('external:abc')).toBeLessThan(360);
    const gap = Math.abs(hueOf('client-1') - hueOf('client-2'));
    expect(Math.min(gap, 360 - gap)).toBeGreaterThan(90);
  });
});

describe('layoutTopology', () => {
  it('gives every node a place and every session a path with the same commands', () => {
    const graph = buildGraph(lab(), status);
    const layout = layoutTopology(graph, 1240);
    expect([...layout.pods.keys()]).toEqual(['pod-1', 'pod-2']);
    expect([...layout.replicas.keys()]).toEqual(['replica-1', 'replica-2']);
    const commands = [...layout.sessionPaths.values()].map((d) => d.replace(/[^A-Z]/g, ''));
    expect(commands).toEqual(['MCLCLC', 'MCLCLC']);
    // Columns left to right, as the request travels.
    const { clients, ingress, replicas, store, service, pods } = layout.columns;
    const xs = [clients.x, ingress.x, replicas.x, store.x, service.x, pods.x];
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    expect(pods.x + pods.w).toBeLessThanOrEqual(1240);
  });

  it('ends a session at the pod it is pinned to', () => {
    const graph = buildGraph(lab(), status);
    const layout = layoutTopology(graph, 1240);
    const pod2 = layout.pods.get('pod-2')!;
    const end = layout.sessionPaths.get('s2')!.split(' ').slice(-2).map(Number);
    expect(end[0]).toBe(pod2.x);
    expect(end[1]).toBeGreaterThan(pod2.y);
    expect(end[1]).toBeLessThan(pod2.y + pod2.h);
  });

  it('stacks cards without overlap and grows taller with more pods', () => {
    const few = layoutTopology(buildGraph(lab(), status), 1240);
    const manyEvents: LabEvent[] = [];
    for (let i = 3; i <= 12; i++) manyEvents.push({ type: 'pod.changed', at, pod: `pod-${i}`, state: 'ready', address: `127.0.0.1:${6000 + i}`, reason: 'started' });
    const many = layoutTopology(buildGraph(lab(manyEvents), status), 1240);
    expect(many.density).toBe('tiny');
    expect(many.height).toBeGreaterThan(few.height);
    const boxes = [...many.pods.values()];
    for (let i = 1; i < boxes.length; i++) expect(boxes[i]!.y).toBeGreaterThanOrEqual(boxes[i - 1]!.y + boxes[i - 1]!.h);
  });

  it('spreads slots evenly inside a card', () => {
    expect(slots({ x: 0, y: 100, w: 10, h: 40 }, 2, 0)).toEqual([110, 130]);
  });
});

/** `n` more simulated clients, each with one session, spread over the two pods and the two replicas. */
function crowd(n: number, extra: LabEvent[] = []): LabSnapshot {
  const events: LabEvent[] = [];
  for (let i = 1; i <= n; i++) {
    const id = `c${i}`;
    events.push(created(id, i % 2 ? A : B, i % 2 ? 'replica-1' : 'replica-2'), call(`crowd-${i}`, id));
  }
  return lab([...events, ...extra]);
}

function sessionless(replicaId: string, pod: string, times: number): LabEvent[] {
  return Array.from({ length: times }, () => ({
    type: 'request.routed' as const, at, replicaId, httpMethod: 'POST', sessionId: null, pod, status: 200, durationMs: 1, recovered: false, era: 'modern' as const,
  }));
}

describe('at a thousand sessions', () => {
  it('draws one line per session up to the bundling threshold, one per replica → pod past it, with counts', () => {
    // lab() brings two sessions of its own: s1 (replica-1 → pod-1) and s2 (replica-2 → pod-2).
    const few = buildGraph(crowd(BUNDLE_ABOVE - 2), status);
    expect(few.sessions).toHaveLength(BUNDLE_ABOVE);
    expect(few.bundles).toEqual([]);
    const layoutFew = layoutTopology(few, 1280);
    expect(layoutFew.sessionPaths.size).toBe(BUNDLE_ABOVE);
    expect(layoutFew.funnel).toBeNull();

    const many = buildGraph(crowd(998), status);
    expect(many.sessions).toHaveLength(1000);
    expect(many.bundles.map((b) => [b.id, b.sessions])).toEqual([['replica-1>pod-1', 500], ['replica-2>pod-2', 500]]);
    const layout = layoutTopology(many, 1280);
    expect(layout.sessionPaths.size, 'no line of its own per session').toBe(0);
    expect(layout.funnel).toMatch(/^M .* Z$/);
    const paths = bundlePaths(many, layout);
    expect([...paths.keys()]).toEqual(['replica-1>pod-1', 'replica-2>pod-2']);
    expect(paths.get('replica-1>pod-1')!.d.replace(/[^A-Z]/g, ''), 'the commands of a session\'s line').toBe('MCLCLC');
    // Every client keeps a dot of its own, inside its column.
    expect(layout.clients.size).toBe(1000);
    for (const point of layout.clients.values()) {
      expect(point.x).toBeGreaterThanOrEqual(layout.columns.clients.x);
      expect(point.x).toBeLessThanOrEqual(layout.columns.clients.x + layout.columns.clients.w);
      expect(point.y).toBeGreaterThanOrEqual(layout.lanes.y);
      expect(point.y).toBeLessThanOrEqual(layout.lanes.y + layout.lanes.h);
    }
  });

  it('gives a bundled session its own line when asked (selected or hovered): from its client\'s dot to its pod', () => {
    const graph = buildGraph(crowd(998), status);
    const layout = layoutTopology(graph, 1280);
    const session = graph.sessions.find((s) => s.id === 'c7')!;
    const d = focusPath(session, layout);
    const numbers = d.split(' ').map(Number).filter((n) => !Number.isNaN(n));
    const client = layout.clients.get('crowd-7')!;
    const pod = layout.pods.get(session.pod!)!;
    expect(numbers[1]).toBeCloseTo(client.y, 0);
    expect(numbers.at(-2)).toBe(pod.x);
    expect(numbers.at(-1)).toBeCloseTo(pod.y + pod.h / 2, 0);
  });

  it('keeps the layout\'s key while only counts change, bundled, so the cards keep their boxes', () => {
    const before = buildGraph(crowd(998), status);
    // Requests go round the replicas: sessions change bundles, the cards do not move.
    const after = buildGraph(crowd(998, routed('c2', B, 3)), status);
    expect(after.bundles).not.toEqual(before.bundles);
    expect(layoutKey(after, 1280)).toBe(layoutKey(before, 1280));
    // One line each, the same move is a new layout.
    const few = crowd(10);
    expect(layoutKey(buildGraph(reduceAll(few, routed('c2', B, 1)), status), 1280)).not.toBe(layoutKey(buildGraph(few, status), 1280));
  });

  it('hands memoized cards the same node while their pod and replica did not change', () => {
    const snapshot = crowd(10);
    const first = buildGraph(snapshot, status);
    // A call changes the sessions and the clients, not the pods.
    const second = buildGraph(reduceAll(snapshot, [call('crowd-3', 'c3')]), status);
    expect(second.pods[0]).toBe(first.pods[0]);
    expect(second.replicas[0]).toBe(first.replicas[0]);
    const third = buildGraph(reduceAll(snapshot, routed('c3', A, 1)), status);
    expect(third.pods.find((p) => p.name === 'pod-1')).not.toBe(first.pods.find((p) => p.name === 'pod-1'));
    expect(third.pods.find((p) => p.name === 'pod-1')!.requests).toBe(first.pods.find((p) => p.name === 'pod-1')!.requests + 1);
  });

  it('evicts the oldest ended sessions beyond the bound, counts them, and keeps the live ones and the pods\' counts', () => {
    const events: LabEvent[] = [];
    const ended = KEEP_ENDED_SESSIONS + 30;
    for (let i = 1; i <= ended; i++) {
      events.push(created(`old${i}`, A, 'replica-1'), call(`client-${i}`, `old${i}`));
      // Half are deleted; the other half are replaced by their client's newer session.
      if (i % 2) events.push({ type: 'session.deleted', at, replicaId: 'replica-1', sessionId: `old${i}`, pod: A, podStatus: 200 });
      else events.push(created(`new${i}`, B, 'replica-2'), call(`client-${i}`, `new${i}`));
    }
    const full = reduceAll(emptySnapshot(), [
      { type: 'pod.changed', at, pod: 'pod-1', state: 'ready', address: A, reason: 'started' },
      { type: 'pod.changed', at, pod: 'pod-2', state: 'ready', address: B, reason: 'started' },
      ...events,
    ]);
    const kept = evictEnded(full);
    expect(Object.keys(full.sessions)).toHaveLength(ended + ended / 2);
    expect(kept.evicted).toBe(30);
    expect(Object.keys(kept.sessions)).toHaveLength(KEEP_ENDED_SESSIONS + ended / 2);
    expect(kept.sessions.old1, 'the oldest go first').toBeUndefined();
    expect(kept.sessions[`old${ended}`]).toBeDefined();
    expect(liveSessions(kept.sessions).map((s) => s.id)).toEqual(liveSessions(full.sessions).map((s) => s.id));
    expect(kept.pods).toBe(full.pods);
    expect(evictEnded(kept), 'nothing more to evict: the same snapshot').toBe(kept);
    // A live view evicts as sessions come; a batch without any leaves the record as it is.
    expect(reduceLive(full, [created('one-more', A, 'replica-1')]).evicted).toBe(30);
    expect(reduceLive(full, routed(`old${ended}`, A, 1)).evicted).toBe(0);
  });

  it('reduces a batch to what the events one by one give, without touching its input', () => {
    const start = crowd(20);
    const frozen = JSON.stringify(start);
    const batch: LabEvent[] = [...routed('c1', A, 3), call('crowd-4', 'c4'), created('c99', B, 'replica-2'), ...sessionless('replica-1', B, 2),
      { type: 'inflight.changed', at, replicaId: 'replica-1', pod: A, calls: 1, oldestAt: at, sessions: [{ sessionId: 'c1', calls: 1, oldestAt: at }] }];
    const together = reduceAll(start, batch);
    expect(together).toEqual(batch.reduce(reduce, start));
    expect(JSON.stringify(start)).toBe(frozen);
    expect(together.sessions).not.toBe(start.sessions);
    expect(together.endpoints, 'untouched parts are shared').toBe(start.endpoints);
    expect(together.version).toBe(start.version + batch.length);
  });
});

describe('requests without a session (2026-07-28)', () => {
  it('fan out from each replica over the pods they went to, weighted by how many each got, and pin no line', () => {
    const activity = emptyActivity();
    noteActivity(activity, [...sessionless('replica-1', A, 3), ...sessionless('replica-1', B, 1), ...sessionless('replica-2', B, 2)], 1000);
    const graph = buildGraph(lab(), status, { sessionless: sessionlessFlows(activity, 1000) });
    expect(graph.fans.map(({ id, replica, pod, weight, share }) => ({ id, replica, pod, weight, share }))).toEqual([
      { id: 'replica-1>pod-1', replica: 'replica-1', pod: 'pod-1', weight: 3, share: 0.75 },
      { id: 'replica-1>pod-2', replica: 'replica-1', pod: 'pod-2', weight: 1, share: 0.25 },
      { id: 'replica-2>pod-2', replica: 'replica-2', pod: 'pod-2', weight: 2, share: 1 },
    ]);
    expect(graph.sessions.map((s) => s.id), 'no session of their own').toEqual(['s1', 's2']);
    const layout = layoutTopology(graph, 1280);
    const fans = fanPaths(graph, layout);
    expect(fans.get('replica-1>pod-1')!.width).toBeGreaterThan(fans.get('replica-1>pod-2')!.width);
    // From the replica's right edge to the pod's left edge.
    const numbers = fans.get('replica-2>pod-2')!.d.split(' ').map(Number).filter((n) => !Number.isNaN(n));
    const replica = layout.replicas.get('replica-2')!;
    expect(numbers[0]).toBe(replica.x + replica.w);
    expect(numbers.at(-2)).toBe(layout.pods.get('pod-2')!.x);
  });

  it('fade as they stop, and are forgotten once faint', () => {
    const activity = emptyActivity();
    noteActivity(activity, sessionless('replica-1', A, 4), 0);
    expect(sessionlessFlows(activity, SESSIONLESS_HALF_LIFE_MS)[0]!.weight).toBeCloseTo(2);
    pruneActivity(activity, SESSIONLESS_HALF_LIFE_MS, 3000);
    expect(activity.sessionless.size).toBe(1);
    pruneActivity(activity, 10 * SESSIONLESS_HALF_LIFE_MS, 3000);
    expect(activity.sessionless.size).toBe(0);
    expect(buildGraph(lab(), status, { sessionless: sessionlessFlows(activity, 0) }).fans).toEqual([]);
  });

  it('flag the pod that served most of them as a pile-up while another pod idles', () => {
    const piled = buildGraph(lab(sessionless('replica-1', A, 45)), status);
    expect(piled.pods.find((p) => p.name === 'pod-1')!.pileUp).toMatch(/pod-1 served 45 of 45 modern requests/);
    expect(piled.pods.find((p) => p.name === 'pod-2')!.pileUp).toBeNull();
    const spread = buildGraph(lab([...sessionless('replica-1', A, 25), ...sessionless('replica-2', B, 25)]), status);
    expect(spread.pods.map((p) => p.pileUp)).toEqual([null, null]);
  });
});
