import type { LabEvent } from '../events.ts';
import type { PodState } from '../pods/runtime.ts';
import type { ReplicaState } from '../replicas/replica-set.ts';
import type { ServerUnderTest } from '../server/under-test.ts';

export interface PodView {
  name: string;
  state: PodState;
  address: string | null;
  reason: string;
  /** Sessions pinned to it now. */
  sessions: number;
  requests: number;
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
  /** The simulated client using it, when it is one of the lab's. */
  client: string | null;
  requests: number;
  reinits: number;
  counter: number | null;
  stateLost: number;
  deleted: boolean;
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
  /** The most recent notable events (routing of single requests left out), newest last. */
  recent: LabEvent[];
  series: SeriesPoint[];
  /**
   * `stateLosses`: calls whose demo counter went back, or — any other server, which has no
   * such probe — re-initializations, each of which loses the session's state on the server.
   * `sessionless`: calls that succeeded with no session (a stateless server): the service spread them.
   */
  totals: { calls: number; clientErrors: number; recoveries: number; stateLosses: number; sessionless: number };
  /** Latency histogram of the current second (log buckets), folded into `series` when it ends. */
  open: { t: number; calls: number; errors: number; buckets: number[] } | null;
}

export const RECENT_EVENTS = 500;
export const SERIES_SECONDS = 300;

export function emptySnapshot(): LabSnapshot {
  return {
    version: 0, server: null, pods: {}, replicas: {}, redis: { up: null, reason: '', keys: null }, endpoints: [], sessions: {}, recent: [], series: [],
    totals: { calls: 0, clientErrors: 0, recoveries: 0, stateLosses: 0, sessionless: 0 }, open: null,
  };
}
