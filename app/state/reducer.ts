import type { LabEvent } from '../events.ts';
import { countCall } from '../shared/call-outcome.ts';
import { worthALine } from '../shared/describe.ts';
import { addressOfUrl, podNameAt } from '../shared/names.ts';
import type { LabSnapshot, PodView, ReplicaWaiting, SeriesPoint, Waiting } from './snapshot.ts';
import { NOT_WAITING, RECENT_EVENTS, SERIES_SECONDS } from './snapshot.ts';

// Latency histogram: bucket i holds calls up to 0.1 ms × 1.25^i (about 0.1 ms … 60 s).
const BUCKETS = 60;
const bucketOf = (ms: number) => Math.min(BUCKETS - 1, Math.max(0, Math.ceil(Math.log(Math.max(ms, 0.1) / 0.1) / Math.log(1.25))));
const upperOf = (i: number) => 0.1 * 1.25 ** i;

/**
 * Applies one lab event to a snapshot and returns the next one. Pure: the input is never
 * changed, untouched parts are shared, so a view can compare references to know what moved.
 */
export function reduce(state: LabSnapshot, event: LabEvent): LabSnapshot {
  const next: LabSnapshot = { ...state, version: state.version + 1 };
  switch (event.type) {
    case 'pod.changed': {
      const pod = state.pods[event.pod]
        ?? { name: event.pod, state: event.state, address: null, reason: '', sessions: 0, requests: 0, unhealthy: {}, waiting: NOT_WAITING };
      next.pods = { ...state.pods, [event.pod]: { ...pod, state: event.state, address: event.address ?? pod.address, reason: event.reason } };
      break;
    }
    case 'replica.changed': {
      const replica = state.replicas[event.replica] ?? { id: event.replica, state: event.state, reason: '', requests: 0 };
      next.replicas = { ...state.replicas, [event.replica]: { ...replica, state: event.state, reason: event.reason } };
      // Down, or (re)started with its memory gone: its probes' verdicts and its calls are no more. Draining, it still has both.
      if (event.state !== 'restarting') forgetReplica(next, event.replica);
      break;
    }
    case 'redis.changed':
      next.redis = { up: event.up, reason: event.reason, keys: event.up ? state.redis.keys : null };
      break;
    case 'redis.keys':
      next.redis = { ...state.redis, keys: event.keys };
      break;
    case 'service.endpoints':
      next.endpoints = event.endpoints;
      next.pods = unprobed(state.pods, event.endpoints);
      break;
    case 'pod.health':
      next.pods = judged(state.pods, event);
      break;
    case 'inflight.changed': {
      const { replicaId, pod, calls, oldestAt, sessions } = event;
      setWaiting(next, replicaId, pod, calls > 0 ? { replicaId, pod, calls, oldestAt, sessions } : null);
      break;
    }
    case 'server.identified':
      next.server = event.server;
      break;
    case 'session.created':
      next.sessions = {
        ...state.sessions,
        [event.sessionId]: {
          id: event.sessionId, backendSessionId: event.backendSessionId, pod: event.pod, lastReplica: event.replicaId, client: null,
          requests: 0, reinits: 0, counter: null, stateLost: 0, deleted: false, waiting: NOT_WAITING,
        },
      };
      next.pods = repin(state.pods, null, event.pod);
      break;
    case 'session.deleted': {
      const session = state.sessions[event.sessionId];
      if (session) {
        next.sessions = { ...state.sessions, [event.sessionId]: { ...session, deleted: true } };
        next.pods = repin(state.pods, session.pod, null);
      }
      break;
    }
    case 'recovery.done': {
      // Only the demo's counter shows a loss; on any other server each re-initialization is one.
      const lost = !event.reused && !counterProbe(state) ? 1 : 0;
      if (!event.reused) {
        next.totals = { ...state.totals, recoveries: state.totals.recoveries + 1, stateLosses: state.totals.stateLosses + lost };
      }
      const session = state.sessions[event.sessionId];
      if (session && (session.pod !== event.toPod || !event.reused)) {
        next.sessions = {
          ...state.sessions,
          [event.sessionId]: { ...session, pod: event.toPod, reinits: event.generation, lastReplica: event.replicaId, stateLost: session.stateLost + lost },
        };
        if (session.pod !== event.toPod) next.pods = repin(state.pods, session.pod, event.toPod);
      }
      break;
    }
    case 'request.routed':
      routed(next, state, event);
      break;
    case 'traffic.call':
      called(next, state, event);
      break;
    default:
      break;
  }
  if (worthALine(event)) next.recent = appendBounded(state.recent, event, RECENT_EVENTS);
  return next;
}

/** Whether state losses are read from the demo's counter (before the server is known: as on the demo). */
function counterProbe(state: LabSnapshot): boolean {
  return (state.server?.kind ?? 'demo') === 'demo';
}

/** Applies many events (a backlog) at once. */
export function reduceAll(state: LabSnapshot, events: readonly LabEvent[]): LabSnapshot {
  return events.reduce(reduce, state);
}

function routed(next: LabSnapshot, state: LabSnapshot, event: Extract<LabEvent, { type: 'request.routed' }>): void {
  const replica = state.replicas[event.replicaId];
  if (replica) next.replicas = { ...state.replicas, [event.replicaId]: { ...replica, requests: replica.requests + 1 } };
  const session = event.sessionId ? state.sessions[event.sessionId] : undefined;
  if (session) next.sessions = { ...state.sessions, [session.id]: { ...session, requests: session.requests + 1, lastReplica: event.replicaId } };
  const podName = podNameAt(state.pods, event.pod);
  const pod = podName ? state.pods[podName] : undefined;
  if (pod) next.pods = { ...state.pods, [pod.name]: { ...pod, requests: pod.requests + 1 } };
}

function called(next: LabSnapshot, state: LabSnapshot, event: Extract<LabEvent, { type: 'traffic.call' }>): void {
  const lost = event.stateLost && counterProbe(state) ? 1 : 0;
  next.totals = { ...state.totals, ...countCall(state.totals, event), calls: state.totals.calls + 1, stateLosses: state.totals.stateLosses + lost };
  const session = event.sessionId ? state.sessions[event.sessionId] : undefined;
  if (session) {
    next.sessions = {
      ...state.sessions,
      [session.id]: { ...session, client: event.client, counter: event.count ?? session.counter, stateLost: session.stateLost + lost },
    };
  }
  // The per-second series: close the open second when a call lands in a later one.
  const t = Math.floor(event.at / 1000);
  let open = state.open;
  let series = state.series;
  if (open && open.t !== t) {
    series = appendBounded(series, close(open), SERIES_SECONDS);
    open = null;
  }
  const buckets = open ? open.buckets.slice() : new Array<number>(BUCKETS).fill(0);
  buckets[bucketOf(event.latencyMs)]!++;
  next.open = { t, calls: (open?.calls ?? 0) + 1, errors: (open?.errors ?? 0) + (event.ok ? 0 : 1), buckets };
  next.series = series;
}

function close(open: NonNullable<LabSnapshot['open']>): SeriesPoint {
  const quantile = (q: number) => {
    const target = q * open.calls;
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += open.buckets[i]!;
      if (seen >= target) return Math.round(upperOf(i) * 100) / 100;
    }
    return Math.round(upperOf(BUCKETS - 1) * 100) / 100;
  };
  return { t: open.t, calls: open.calls, errors: open.errors, p50: quantile(0.5), p99: quantile(0.99) };
}

/** Moves one session's pin from one pod (by address) to another in the pod counts. */
function repin(pods: Record<string, PodView>, from: string | null, to: string | null): Record<string, PodView> {
  let next = pods;
  for (const [address, delta] of [[from, -1], [to, 1]] as const) {
    const name = podNameAt(next, address);
    const pod = name ? next[name] : undefined;
    if (pod) next = { ...next, [pod.name]: { ...pod, sessions: Math.max(0, pod.sessions + delta) } };
  }
  return next;
}

/** A replica's verdict on a pod changed: its mark is set (unhealthy, with why) or cleared. */
function judged(pods: Record<string, PodView>, event: Extract<LabEvent, { type: 'pod.health' }>): Record<string, PodView> {
  const name = podNameAt(pods, event.pod);
  const pod = name ? pods[name] : undefined;
  if (!pod || (event.health === 'healthy' && !(event.replicaId in pod.unhealthy))) return pods;
  const unhealthy = { ...pod.unhealthy };
  if (event.health === 'healthy') delete unhealthy[event.replicaId];
  else unhealthy[event.replicaId] = event.reason;
  return { ...pods, [pod.name]: { ...pod, unhealthy } };
}

/** Pods the service no longer lists are no longer probed: the replicas forget their verdicts on them (no event says so). */
function unprobed(pods: Record<string, PodView>, endpoints: readonly string[]): Record<string, PodView> {
  const listed = new Set(endpoints.map(addressOfUrl));
  let next = pods;
  for (const pod of Object.values(pods)) {
    if (pod.address !== null && listed.has(pod.address)) continue;
    if (Object.keys(pod.unhealthy).length > 0) next = { ...next, [pod.name]: { ...pod, unhealthy: {} } };
  }
  return next;
}

/**
 * One replica's calls on one pod are now `entry` (null: none). The pod's and the sessions'
 * totals are summed again from every replica's: only for that pod, and for the sessions the
 * replica listed before or lists now.
 */
function setWaiting(next: LabSnapshot, replicaId: string, pod: string, entry: ReplicaWaiting | null): void {
  const key = `${replicaId} ${pod}`;
  const before = next.inFlight[key];
  if (!before && !entry) return;
  const inFlight = { ...next.inFlight };
  if (entry) inFlight[key] = entry;
  else delete inFlight[key];
  next.inFlight = inFlight;

  const name = podNameAt(next.pods, pod);
  if (name) {
    let waiting = NOT_WAITING;
    for (const w of Object.values(inFlight)) if (w.pod === pod) waiting = plus(waiting, w);
    next.pods = { ...next.pods, [name]: { ...next.pods[name]!, waiting } };
  }

  const affected = new Set<string>();
  for (const s of [...(before?.sessions ?? []), ...(entry?.sessions ?? [])]) if (next.sessions[s.sessionId]) affected.add(s.sessionId);
  if (affected.size === 0) return;
  const waiting = new Map<string, Waiting>();
  for (const w of Object.values(inFlight)) {
    for (const s of w.sessions) if (affected.has(s.sessionId)) waiting.set(s.sessionId, plus(waiting.get(s.sessionId) ?? NOT_WAITING, s));
  }
  const sessions = { ...next.sessions };
  for (const id of affected) sessions[id] = { ...sessions[id]!, waiting: waiting.get(id) ?? NOT_WAITING };
  next.sessions = sessions;
}

/** A replica that went down or started afresh: its marks on pods, and its calls, go. */
function forgetReplica(next: LabSnapshot, replicaId: string): void {
  for (const w of Object.values(next.inFlight)) if (w.replicaId === replicaId) setWaiting(next, replicaId, w.pod, null);
  for (const pod of Object.values(next.pods)) {
    if (!(replicaId in pod.unhealthy)) continue;
    const { [replicaId]: _gone, ...unhealthy } = pod.unhealthy;
    next.pods = { ...next.pods, [pod.name]: { ...pod, unhealthy } };
  }
}

function plus(a: Waiting, b: Waiting): Waiting {
  const oldestAt = a.oldestAt === null ? b.oldestAt : b.oldestAt === null ? a.oldestAt : Math.min(a.oldestAt, b.oldestAt);
  return { calls: a.calls + b.calls, oldestAt };
}

function appendBounded<T>(list: readonly T[], item: T, max: number): T[] {
  const next = list.length >= max ? list.slice(list.length - max + 1) : list.slice();
  next.push(item);
  return next;
}

