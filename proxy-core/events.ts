import type { PinningKind } from './session/record.ts';

/** Why a session was re-initialized. */
export type RecoveryCause =
  | 'connect-refused'
  | 'connect-reset'
  | 'connect-timeout'
  | 'unreachable'
  | 'session-lost-404'
  | 'session-lost-400'
  | 'session-lost-32001'
  /** The pinned pod fails its health probes (hung, paused, cut off): recovered without waiting for a timeout. */
  | 'pod-unhealthy'
  /** The pinned pod left the backend name's DNS answer (`--backend-dns`): gone or no longer ready, recovered at once. */
  | 'pod-left';

/**
 * How a request under way on a pod was ended by the proxy: `replayed` on the recovered
 * session; `retried` once on a fresh connection to the same pod; `unknown-outcome` — answered
 * with a JSON-RPC error saying the call may or may not have run; `stream-closed` — a GET
 * stream, ended so that the client reconnects.
 */
export type InFlightOutcome = 'replayed' | 'retried' | 'unknown-outcome' | 'stream-closed';

/** Why: the pod failed its probes, the call outlived `--upstream-timeout`, or the pod reset the connection after the request was written. */
export type InFlightEndReason = 'pod-unhealthy' | 'upstream-timeout' | 'reset-after-write';

/**
 * Who ended a legacy HTTP+SSE session's stream: the client went away, the pod ended it, the
 * pod was lost (the connection broke), or the proxy cut it because the pod stopped answering
 * its probes. The session ends with its stream in every case: it cannot move to another pod.
 */
export type SseStreamEnd = 'client-closed' | 'pod-closed' | 'pod-lost' | 'pod-unhealthy';

interface Base {
  /** Epoch milliseconds. */
  at: number;
  replicaId: string;
}

/** Every step the proxy takes, by event name. The lab's live view is built from these alone. */
export interface ProxyEventMap {
  /** A request was answered (status and time to the response head). */
  'request.routed': Base & {
    httpMethod: string;
    sessionId: string | null;
    /** `host:port` of the pod that answered: for a request without a session, the pod its connection through the service reached; `service` before one was reached; null when the proxy answered itself. */
    pod: string | null;
    status: number;
    durationMs: number;
    recovered: boolean;
    /**
     * The client's `Last-Event-ID` was not sent on: the request was replayed on a new pod,
     * where the old pod's event ids mean nothing. Present only when true.
     */
    lastEventIdDropped?: true;
    /** Present for a request of MCP 2026-07-28 (no session; `Mcp-Method`, or the revision named in a header or `_meta`). */
    era?: 'modern';
    /** The request's `Mcp-Method` header (SEP-2243), as sent; present only on modern requests that sent it. */
    mcpMethod?: string;
    /** The request's `Mcp-Name` header (the tool, prompt or resource it targets), as sent; present only on modern requests that sent it. */
    mcpName?: string;
  };
  /** An initialize was answered with a session: the record is stored. */
  'session.created': Base & {
    sessionId: string;
    backendSessionId: string;
    pod: string;
    pinning: PinningKind;
    /** `sse`: the legacy HTTP+SSE transport (MCP 2024-11-05), opened by a GET stream. Absent: Streamable HTTP. */
    transport?: 'sse';
  };
  /** A session's record was removed: the client sent DELETE, or — legacy HTTP+SSE — its stream ended. */
  'session.deleted': Base & {
    sessionId: string;
    pod: string;
    /** What the pod answered to the DELETE; null when it did not answer, or there was no DELETE. */
    podStatus: number | null;
    /** Present for a legacy HTTP+SSE session, which has no DELETE: its stream ended, and why that ends the session. */
    streamEnded?: { by: SseStreamEnd; reason: string };
    /**
     * Present when the proxy dropped the record itself: recovery is off and the session's pod is
     * dead or gone (why), so the client was answered "session not found" to make it start over.
     */
    podGone?: RecoveryCause;
  };
  /** A request named a session the store does not know. */
  'session.unknown': Base & { sessionId: string; status: number };
  'recovery.started': Base & { sessionId: string; fromPod: string; cause: RecoveryCause; generation: number };
  'recovery.done': Base & {
    sessionId: string;
    fromPod: string;
    toPod: string;
    cause: RecoveryCause;
    generation: number;
    durationMs: number;
    /** True when another request or replica re-initialized and this one reused its pod. */
    reused: boolean;
  };
  'recovery.failed': Base & { sessionId: string; fromPod: string; cause: RecoveryCause; reason: string };
  'store.error': Base & { operation: string; message: string };
  /** This replica's verdict on a pod changed (its probes: any HTTP answer passes, no answer in time fails). */
  'pod.health': Base & {
    /** `host:port`, as the backend URL names it. */
    pod: string;
    health: 'healthy' | 'unhealthy';
    /** What the last probe saw: `answered 405`, `no answer within 1000 ms`, `connect-refused`. */
    reason: string;
    /** Failed probes in a row. */
    failures: number;
    /** Set when a request's failed fresh connection (refused, or closed unanswered) made the pod unhealthy before its probes did. */
    byRequest?: true;
  };
  /**
   * Calls this replica has waiting on a pod changed: their count and the oldest one's start,
   * per pod and per session. Coalesced: at most one per pod every 100 ms.
   */
  'inflight.changed': Base & {
    pod: string;
    calls: number;
    /** Epoch ms the oldest call started; null when none is left. */
    oldestAt: number | null;
    sessions: { sessionId: string; calls: number; oldestAt: number }[];
  };
  /** The proxy ended a request under way on a pod instead of letting it hang or fail. */
  'inflight.ended': Base & {
    sessionId: string | null;
    pod: string;
    /** `tools/call counter`, `resources/read`, `batch`; null for a GET stream or a body that is not JSON-RPC. */
    rpcMethod: string | null;
    reason: InFlightEndReason;
    outcome: InFlightOutcome;
    /** How long it had been under way. */
    ageMs: number;
  };
  /** The store answers again after errors; pending writes were flushed. */
  'store.restored': Base & { flushed: number };
  /**
   * The backend name's DNS answer (`--backend-dns`) changed, the first answer included: the
   * service's endpoints follow it. Pods as `host:port`.
   */
  'dns.changed': Base & { name: string; pods: string[]; added: string[]; removed: string[] };
  /** A lookup of the backend name failed: the last good answer (`kept`) stays in use. */
  'dns.failed': Base & {
    name: string;
    message: string;
    /** Failed lookups in a row. */
    failures: number;
    kept: string[];
  };
}

export type ProxyEventName = keyof ProxyEventMap;
export type ProxyEvent = { [K in ProxyEventName]: { type: K } & ProxyEventMap[K] }[ProxyEventName];

type Listener<K extends ProxyEventName> = (event: ProxyEventMap[K] & { type: K }) => void;

/**
 * A typed event bus. Emitters ask `wants(type)` before building an event, so an event
 * nobody listens to costs one property read.
 */
export class ProxyEvents {
  // Copied on write (listeners come and go rarely, events come per request): an emit walks the
  // lists as they were when it started, without copying them.
  private readonly byType: { [K in ProxyEventName]?: readonly Listener<K>[] } = {};
  private any: readonly ((event: ProxyEvent) => void)[] = [];

  on<K extends ProxyEventName>(type: K, listener: Listener<K>): () => void {
    const lists = this.byType as { [T in K]?: readonly Listener<K>[] };
    lists[type] = [...(lists[type] ?? []), listener];
    return () => {
      lists[type] = without(lists[type] ?? [], listener);
    };
  }

  onAny(listener: (event: ProxyEvent) => void): () => void {
    this.any = [...this.any, listener];
    return () => {
      this.any = without(this.any, listener);
    };
  }

  wants(type: ProxyEventName): boolean {
    return this.any.length > 0 || (this.byType[type]?.length ?? 0) > 0;
  }

  emit<K extends ProxyEventName>(type: K, event: ProxyEventMap[K]): void {
    const full = { type, ...event } as ProxyEventMap[K] & { type: K };
    const list = this.byType[type] as readonly Listener<K>[] | undefined;
    if (list) for (let i = 0; i < list.length; i++) list[i]!(full);
    const any = this.any;
    for (let i = 0; i < any.length; i++) any[i]!(full as unknown as ProxyEvent);
  }
}

/** `list` without the first `item` in it. */
function without<T>(list: readonly T[], item: T): readonly T[] {
  const at = list.indexOf(item);
  return at === -1 ? list : [...list.slice(0, at), ...list.slice(at + 1)];
}
