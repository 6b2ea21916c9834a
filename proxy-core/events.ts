import type { PinningKind } from './session/record.ts';

/** Why a session was re-initialized. */
export type RecoveryCause =
  | 'connect-refused'
  | 'connect-reset'
  | 'connect-timeout'
  | 'unreachable'
  | 'session-lost-404'
  | 'session-lost-400'
  | 'session-lost-32001';

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
    /** `host:port` of the pod that answered, or the service when it chose. */
    pod: string | null;
    status: number;
    durationMs: number;
    recovered: boolean;
  };
  /** An initialize was answered with a session: the record is stored. */
  'session.created': Base & {
    sessionId: string;
    backendSessionId: string;
    pod: string;
    pinning: PinningKind;
  };
  'session.deleted': Base & { sessionId: string; pod: string; podStatus: number | null };
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
  /** The store answers again after errors; pending writes were flushed. */
  'store.restored': Base & { flushed: number };
}

export type ProxyEventName = keyof ProxyEventMap;
export type ProxyEvent = { [K in ProxyEventName]: { type: K } & ProxyEventMap[K] }[ProxyEventName];

type Listener<K extends ProxyEventName> = (event: ProxyEventMap[K] & { type: K }) => void;

/**
 * A typed event bus. Emitters ask `wants(type)` before building an event, so an event
 * nobody listens to costs one property read.
 */
export class ProxyEvents {
  private readonly byType: { [K in ProxyEventName]?: Listener<K>[] } = {};
  private readonly any: ((event: ProxyEvent) => void)[] = [];

  on<K extends ProxyEventName>(type: K, listener: Listener<K>): () => void {
    const list = (this.byType[type] ??= []) as Listener<K>[];
    list.push(listener);
    return () => list.splice(list.indexOf(listener) >>> 0, 1);
  }

  onAny(listener: (event: ProxyEvent) => void): () => void {
    this.any.push(listener);
    return () => this.any.splice(this.any.indexOf(listener) >>> 0, 1);
  }

  wants(type: ProxyEventName): boolean {
    return this.any.length > 0 || (this.byType[type]?.length ?? 0) > 0;
  }

  emit<K extends ProxyEventName>(type: K, event: ProxyEventMap[K]): void {
    const full = { type, ...event } as ProxyEventMap[K] & { type: K };
    const list = this.byType[type] as Listener<K>[] | undefined;
    if (list) for (const listener of [...list]) listener(full);
    for (const listener of [...this.any]) listener(full as unknown as ProxyEvent);
  }
}
