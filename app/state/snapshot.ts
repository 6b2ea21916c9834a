import type { LabEvent } from '../events.ts';
import type { PodState } from '../pods/runtime.ts';
import type { ReplicaState } from '../replicas/replica-set.ts';
import type { ServerUnderTest } from '../server/under-test.ts';
import { NO_CALLS, type CallCounts } from '../shared/call-outcome.ts';

/** Calls waiting for an answer now: how many, and when the oldest started (epoch ms; null with none). */
export interface Waiting {
  calls: number;
  oldestAt: number | null;
}

export const NOT_WAITING: Waiting = { calls: 0, oldestAt: null };

export interface PodView {
  name: string;
  state: PodState;
  address: string | null;
  reason: string;
  /** Sessions pinned to it now. */
  sessions: number;
  /** Requests it answered, of every era. */
  requests: number;
  /**
   * Of `requests`, those of MCP 2026-07-28 (modern: no session), each counted on the pod that
   * really served it (`request.routed` with `era: 'modern'`): how the service spreads them.
   */
  modernRequests: number;
  /**
   * Replicas whose health probes find it unhealthy now (it stopped answering: hung, paused,
   * dead) → what their last probe saw (`no answer within 1000 ms`). Empty: healthy everywhere.
   */
  unhealthy: Record<string, string>;
  /** Calls waiting on it now, every replica's together. */
  waiting: Waiting;
}

export interface ReplicaView {
  id: string;
  state: ReplicaState;
  reason: string;
  requests: number;
}

export interface SessionView {
  /** The client session id (what the client sees). */
  id: string;
  backendSessionId: string | null;
  /** Address of the pod it is pinned to. */
  pod: string | null;
  lastReplica: string | null;
  /** The client using it: one of the lab's own (`client-3`), or an external client's `clientInfo` name once the ingress saw it. */
  client: string | null;
  requests: number;
  reinits: number;
  counter: number | null;
  stateLost: number;
  deleted: boolean;
  /** Its calls waiting for an answer now, on any pod, through any replica. */
  waiting: Waiting;
}

/** How a client has been seen to speak: with sessions (legacy), without (2026-07-28), or both (a dual-era client that fell back). */
export type SeenEra = 'legacy' | 'modern' | 'both';

/** A client the lab has seen: one of its own (by its traffic name, `client-3`), or one from outside (by its `clientInfo` name). */
export interface ClientView {
  name: string;
  /** Its `clientInfo.version`; null for the lab's own clients. */
  version: string | null;
  simulated: boolean;
  era: SeenEra;
  /** Sessions it opened, and the newest (null: none, a modern client). */
  sessions: number;
  sessionId: string | null;
  /** The lab's own clients: calls made and failed. External clients: requests routed on their sessions (errors unknown: 0). */
  calls: number;
  errors: number;
  /** Handles it was handed on one pod that failed on another. */
  leaks: number;
  /** The pod that answered its last call, as the pod named itself (the lab's own clients); null when unknown. */
  lastPod: string | null;
  /** Its address as the ingress saw it (external clients). */
  remoteAddress: string | null;
  firstSeen: number;
  lastSeen: number;
}

/** Calls one replica has waiting on one pod (`host:port`, or `service`), as its last `inflight.changed` said. */
export interface ReplicaWaiting extends Waiting {
  replicaId: string;
  pod: string;
  sessions: { sessionId: string; calls: number; oldestAt: number }[];
}

/** One second of traffic as the clients saw it. */
export interface SeriesPoint {
  /** Epoch second. */
  t: number;
  calls: number;
  errors: number;
  p50: number;
  p99: number;
}

/** Everything the UI draws, built from the lab's events alone. */
export interface LabSnapshot {
  /** Events applied so far: a view with an older version is stale. */
  version: number;
  /** The server the pods run (from `server.identified`); null until the lab has read it. */
  server: ServerUnderTest | null;
  pods: Record<string, PodView>;
  replicas: Record<string, ReplicaView>;
  /** `keys`: session records in Redis at the last count (null: not counted yet, or down). */
  redis: { up: boolean | null; reason: string; keys: number | null };
  endpoints: string[];
  sessions: Record<string, SessionView>;
  /** Ended sessions (deleted, or replaced by their client's newer one) dropped from `sessions` to keep it bounded: see `evictEnded`. */
  evicted: number;
  /** Every client seen, by name: the lab's own from their calls, external ones from `client.seen`. */
  clients: Record<string, ClientView>;
  /** Calls waiting now, per replica and pod (key: `<replica> <pod>`), where any are: what `waiting` on pods and sessions adds up. */
  inFlight: Record<string, ReplicaWaiting>;
  /** The most recent notable events (routing of single requests left out), newest last. */
  recent: LabEvent[];
  series: SeriesPoint[];
  /**
   * The verdict's numbers, live (see CallCounts for the split of client-visible errors).
   * `stateLosses`: calls whose demo counter went back, or — any other server, which has no
   * such probe — re-initializations, each of which loses the session's state on the server.
   */
  totals: { calls: number; recoveries: number; stateLosses: number } & CallCounts;
  /** Latency histogram of the current second (log buckets), folded into `series` when it ends. */
  open: { t: number; calls: number; errors: number; buckets: number[] } | null;
}

export const RECENT_EVENTS = 500;
export const SERIES_SECONDS = 300;

export function emptySnapshot(): LabSnapshot {
  return {
    version: 0, server: null, pods: {}, replicas: {}, redis: { up: null, reason: '', keys: null }, endpoints: [], sessions: {}, evicted: 0, clients: {}, inFlight: {}, recent: [], series: [],
    totals: { calls: 0, recoveries: 0, stateLosses: 0, ...NO_CALLS }, open: null,
  };
}
