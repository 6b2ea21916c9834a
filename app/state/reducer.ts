import type { LabEvent } from '../events.ts';
import { countCall } from '../shared/call-outcome.ts';
import { worthALine } from '../shared/describe.ts';
import { addressOfUrl, podNameAt } from '../shared/names.ts';
import type { ClientView, LabSnapshot, PodView, ReplicaWaiting, SeenEra, SeriesPoint, SessionView, Waiting } from './snapshot.ts';
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
  return reduceAll(state, [event]);
}

/**
 * Applies a batch of events at once, as pure as `reduce` from outside: a record (sessions,
 * pods…) is copied at its first change in the batch and written in place after, so a batch
 * costs one copy of each record it touches, not one per event.
 */
export function reduceAll(state: LabSnapshot, events: readonly LabEvent[]): LabSnapshot {
  if (events.length === 0) return state;
  const next: LabSnapshot = { ...state };
  drafts = new WeakSet();
  try {
    for (const event of events) step(next, event);
  } finally {
    drafts = null;
  }
  return next;
}

/** Records and lists copied during the batch under way: the batch's own, written in place. */
let drafts: WeakSet<object> | null = null;

/** One record of the snapshot, writable: copied once per batch. */
function own<K extends 'sessions' | 'clients' | 'pods' | 'replicas' | 'inFlight'>(next: LabSnapshot, key: K): LabSnapshot[K] {
  if (drafts?.has(next[key])) return next[key];
  const copy = { ...next[key] };
  drafts?.add(copy);
  next[key] = copy;
  return copy;
}

/** Sets one entry of one of the snapshot's records. */
function put<K extends 'sessions' | 'clients' | 'pods' | 'replicas'>(next: LabSnapshot, key: K, id: string, value: LabSnapshot[K][string]): void {
  (own(next, key) as Record<string, LabSnapshot[K][string]>)[id] = value;
}

/**
 * One event applied to the batch's draft. `state` is the draft too (the snapshot as the
 * events before this one left it): each case reads a field before it writes it.
 */
function step(next: LabSnapshot, event: LabEvent): void {
  const state = next;
  next.version++;
  switch (event.type) {
    case 'pod.changed': {
      const pod = state.pods[event.pod]
        ?? { name: event.pod, state: event.state, address: null, reason: '', sessions: 0, requests: 0, modernRequests: 0, unhealthy: {}, waiting: NOT_WAITING };
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
      put(next, 'sessions', event.sessionId, {
        id: event.sessionId, backendSessionId: event.backendSessionId, pod: event.pod, lastReplica: event.replicaId, client: null,
        requests: 0, reinits: 0, counter: null, stateLost: 0, deleted: false, waiting: NOT_WAITING,
      });
      repin(next, null, event.pod);
      break;
    case 'session.deleted': {
      const session = state.sessions[event.sessionId];
      if (session) {
        put(next, 'sessions', event.sessionId, { ...session, deleted: true });
        repin(next, session.pod, null);
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
        put(next, 'sessions', event.sessionId, { ...session, pod: event.toPod, reinits: event.generation, lastReplica: event.replicaId, stateLost: session.stateLost + lost });
        if (session.pod !== event.toPod) repin(next, session.pod, event.toPod);
      }
      break;
    }
    case 'request.routed':
      routed(next, state, event);
      break;
    case 'traffic.call':
      called(next, state, event);
      break;
    case 'client.seen':
      // The lab's own clients are known by their calls (traffic.call), under their traffic names.
      if (!event.simulated) seen(next, state, event);
      break;
    case 'handle.leak': {
      const client = state.clients[event.client];
      if (client) put(next, 'clients', client.name, { ...client, leaks: client.leaks + 1 });
      break;
    }
    default:
      break;
  }
  if (worthALine(event)) next.recent = appendBounded(state.recent, event, RECENT_EVENTS);
}

/** Whether state losses are read from the demo's counter (before the server is known: as on the demo). */
function counterProbe(state: LabSnapshot): boolean {
  return (state.server?.kind ?? 'demo') === 'demo';
}

function routed(next: LabSnapshot, state: LabSnapshot, event: Extract<LabEvent, { type: 'request.routed' }>): void {
  const replica = state.replicas[event.replicaId];
  if (replica) put(next, 'replicas', event.replicaId, { ...replica, requests: replica.requests + 1 });
  const session = event.sessionId ? state.sessions[event.sessionId] : undefined;
  if (session) put(next, 'sessions', session.id, { ...session, requests: session.requests + 1, lastReplica: event.replicaId });
  // An external client's calls are known only as its sessions' requests.
  const external = session?.client ? state.clients[session.client] : undefined;
  if (external && !external.simulated) put(next, 'clients', external.name, { ...external, calls: external.calls + 1, lastSeen: event.at });
  const podName = podNameAt(state.pods, event.pod);
  const pod = podName ? state.pods[podName] : undefined;
  if (pod) put(next, 'pods', pod.name, { ...pod, requests: pod.requests + 1, modernRequests: pod.modernRequests + (event.era === 'modern' ? 1 : 0) });
}

function called(next: LabSnapshot, state: LabSnapshot, event: Extract<LabEvent, { type: 'traffic.call' }>): void {
  const lost = event.stateLost && counterProbe(state) ? 1 : 0;
  next.totals = { ...state.totals, ...countCall(state.totals, event), calls: state.totals.calls + 1, stateLosses: state.totals.stateLosses + lost };
  const session = event.sessionId ? state.sessions[event.sessionId] : undefined;
  if (session) put(next, 'sessions', session.id, { ...session, client: event.client, counter: event.count ?? session.counter, stateLost: session.stateLost + lost });
  const client = state.clients[event.client] ?? newClient(event.client, true, event.at);
  put(next, 'clients', event.client, {
    ...client, era: event.era ?? 'legacy', ...opened(client, event.sessionId), calls: client.calls + 1, errors: client.errors + (event.ok ? 0 : 1),
    lastPod: event.pod ?? client.lastPod, lastSeen: event.at,
  });
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

/** An external client named itself at the ingress: with a session (an initialize) or without (2026-07-28). */
function seen(next: LabSnapshot, state: LabSnapshot, event: Extract<LabEvent, { type: 'client.seen' }>): void {
  const { name, version } = event.clientInfo;
  const before = state.clients[name];
  const client = before ?? newClient(name, false, event.at);
  // A dual-era client that fell back to initialize has been seen both ways.
  const era: SeenEra = event.sessionId ? 'legacy' : 'modern';
  put(next, 'clients', name, { ...client, version, era: before && before.era !== era ? 'both' : era, ...opened(client, event.sessionId), remoteAddress: event.remoteAddress, lastSeen: event.at });
  const session = event.sessionId ? state.sessions[event.sessionId] : undefined;
  if (session) put(next, 'sessions', session.id, { ...session, client: name });
}

function newClient(name: string, simulated: boolean, at: number): ClientView {
  return { name, version: null, simulated, era: 'legacy', sessions: 0, sessionId: null, calls: 0, errors: 0, leaks: 0, lastPod: null, remoteAddress: null, firstSeen: at, lastSeen: at };
}

/** A client's sessions once it used `sessionId` (null: none). */
function opened(client: ClientView, sessionId: string | null): Pick<ClientView, 'sessions' | 'sessionId'> {
  if (sessionId === null || sessionId === client.sessionId) return { sessions: client.sessions, sessionId: client.sessionId };
  return { sessions: client.sessions + 1, sessionId };
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
function repin(next: LabSnapshot, from: string | null, to: string | null): void {
  for (const [address, delta] of [[from, -1], [to, 1]] as const) {
    const name = podNameAt(next.pods, address);
    const pod = name ? next.pods[name] : undefined;
    if (pod) put(next, 'pods', pod.name, { ...pod, sessions: Math.max(0, pod.sessions + delta) });
  }
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
  const inFlight = own(next, 'inFlight');
  if (entry) inFlight[key] = entry;
  else delete inFlight[key];

  const name = podNameAt(next.pods, pod);
  if (name) {
    let waiting = NOT_WAITING;
    for (const w of Object.values(inFlight)) if (w.pod === pod) waiting = plus(waiting, w);
    put(next, 'pods', name, { ...next.pods[name]!, waiting });
  }

  const affected = new Set<string>();
  for (const s of [...(before?.sessions ?? []), ...(entry?.sessions ?? [])]) if (next.sessions[s.sessionId]) affected.add(s.sessionId);
  if (affected.size === 0) return;
  const waiting = new Map<string, Waiting>();
  for (const w of Object.values(inFlight)) {
    for (const s of w.sessions) if (affected.has(s.sessionId)) waiting.set(s.sessionId, plus(waiting.get(s.sessionId) ?? NOT_WAITING, s));
  }
  for (const id of affected) put(next, 'sessions', id, { ...next.sessions[id]!, waiting: waiting.get(id) ?? NOT_WAITING });
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

/** The list with `item` appended, the oldest dropped beyond `max`: copied once per batch too. */
function appendBounded<T>(list: readonly T[], item: T, max: number): T[] {
  const next = drafts?.has(list) ? (list as T[]) : list.slice();
  drafts?.add(next);
  next.push(item);
  if (next.length > max) next.splice(0, next.length - max);
  return next;
}


/**
 * What a live view keeps (the lab's, the UI's): a batch of events reduced, and, when sessions
 * came or went, the ended ones beyond KEEP_ENDED_SESSIONS evicted.
 */
export function reduceLive(state: LabSnapshot, events: readonly LabEvent[]): LabSnapshot {
  const next = reduceAll(state, events);
  return events.some((event) => event.type === 'session.created' || event.type === 'session.deleted') ? evictEnded(next) : next;
}

/** Ended sessions kept for the session list's "show ended"; older ones are only counted. */
export const KEEP_ENDED_SESSIONS = 200;

/**
 * Each client's newest session id. Records keep insertion order, so the last one seen wins:
 * a client told its session is gone starts another and never uses the old one again.
 */
export function newestOfClients(sessions: Record<string, SessionView>): Map<string, string> {
  const newest = new Map<string, string>();
  for (const session of Object.values(sessions)) if (session.client && !session.deleted) newest.set(session.client, session.id);
  return newest;
}

/** Whether a session has ended: deleted, or its client has a newer one. */
export function hasEnded(session: SessionView, newest: ReadonlyMap<string, string>): boolean {
  return session.deleted || (session.client !== null && newest.get(session.client) !== session.id);
}

/**
 * Drops the oldest ended sessions beyond `keep`, counting them in `evicted`. The pods'
 * session counts are kept apart from the records, so they do not change. A pass over every
 * session: run it when sessions come or go, not on every event.
 */
export function evictEnded(snapshot: LabSnapshot, keep = KEEP_ENDED_SESSIONS): LabSnapshot {
  const newest = newestOfClients(snapshot.sessions);
  const ended = Object.values(snapshot.sessions).filter((session) => hasEnded(session, newest));
  if (ended.length <= keep) return snapshot;
  const sessions = { ...snapshot.sessions };
  const gone = ended.slice(0, ended.length - keep);
  for (const session of gone) delete sessions[session.id];
  return { ...snapshot, sessions, evicted: snapshot.evicted + gone.length };
}
