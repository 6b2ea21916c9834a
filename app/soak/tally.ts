import { UNKNOWN_OUTCOME } from '../../proxy-core/jsonrpc.ts';
import type { RecoveryCause } from '../../proxy-core/index.ts';
import type { LabEvent } from '../events.ts';

/** What a soak's clients and replicas went through, in numbers (built from the lab's events alone). */
export interface SoakFigures {
  /** Tool calls the simulated clients made. */
  calls: number;
  /**
   * Client-visible errors the proxy should have hidden (recovery, replay, a replica's copy):
   * every failed call that is not an "outcome unknown" answer. Must be 0.
   */
  recoverableErrors: number;
  /**
   * Calls under way on a pod that stopped answering (or reset the connection after the request
   * was written) and not safe to send again: answered with JSON-RPC -32050, as designed.
   */
  unknownOutcomes: number;
  /** Re-initializations on a new pod (one per session per generation), by cause. */
  recoveries: Partial<Record<RecoveryCause, number>>;
  /** Re-initializations that failed (the client then saw an error, counted above). */
  recoveriesFailed: number;
  /**
   * Requests under way that the proxy ended: why (`hung`: their pod stopped answering its
   * probes — a pause; `reset`: it closed the connection after the request was written — a kill)
   * and what it did with them.
   */
  inFlightEnded: { hung: number; reset: number; replayed: number; retried: number; unknownOutcome: number; streamsClosed: number };
  /**
   * Requests a replica served on a session made before that replica last (re)started: its
   * memory was gone, so the session came from Redis.
   */
  servedAfterReplicaRestart: number;
  /** Times a replica wrote its sessions back to a Redis that came back (empty) after errors. */
  storeRestored: number;
  /** Sessions the server lost state of (the demo counter went back): expected when a pod dies. */
  stateLosses: number;
  /** The slowest call, ok or not: the longest any client waited. */
  longestWaitMs: number;
  latencyMs: { p50: number; p99: number };
  /** The errors of each class, grouped by what they said (ids, ports and replica numbers left out), most frequent first. */
  errorKinds: { recoverable: ErrorKind[]; unknownOutcome: ErrorKind[] };
  /** Why re-initializations failed, grouped as the error kinds are. */
  recoveryFailures: ErrorKind[];
  /** Requests a replica answered "session not found" (the store had no record of them). */
  unknownSessions: number;
}

/** Client-visible errors that said the same thing. */
export interface ErrorKind {
  what: string;
  count: number;
}

/** Distinct error kinds kept per class; the rest are counted as one "other" kind. */
const MAX_KINDS = 30;
/** Latencies are kept in 1 ms buckets up to this; slower calls go in the last one (the maximum is exact). */
const LATENCY_BUCKETS = 120_000;

/**
 * Adds up a soak's events as they come, keeping no event: a 10-minute soak emits hundreds of
 * thousands of them, and what the soak measures includes this process's memory.
 */
export class SoakTally {
  private readonly figures: SoakFigures = {
    calls: 0, recoverableErrors: 0, unknownOutcomes: 0, recoveries: {}, recoveriesFailed: 0,
    inFlightEnded: { hung: 0, reset: 0, replayed: 0, retried: 0, unknownOutcome: 0, streamsClosed: 0 },
    servedAfterReplicaRestart: 0, storeRestored: 0, stateLosses: 0, longestWaitMs: 0, latencyMs: { p50: 0, p99: 0 },
    errorKinds: { recoverable: [], unknownOutcome: [] }, recoveryFailures: [], unknownSessions: 0,
  };
  private readonly kinds = { recoverable: new Map<string, number>(), unknownOutcome: new Map<string, number>(), recoveryFailed: new Map<string, number>() };
  private readonly latencies = new Uint32Array(LATENCY_BUCKETS);
  /** When each session was created. */
  private readonly sessionsBorn = new Map<string, number>();
  /** How often each replica has started, and when it last did. */
  private readonly replicaStarts = new Map<string, { count: number; at: number }>();

  add(event: LabEvent): void {
    const f = this.figures;
    switch (event.type) {
      case 'traffic.call': {
        f.calls++;
        f.longestWaitMs = Math.max(f.longestWaitMs, event.latencyMs);
        this.latencies[Math.min(LATENCY_BUCKETS - 1, Math.floor(event.latencyMs))]!++;
        if (event.stateLost) f.stateLosses++;
        if (event.ok) break;
        const unknown = isUnknownOutcome(event);
        if (unknown) f.unknownOutcomes++;
        else f.recoverableErrors++;
        count(unknown ? this.kinds.unknownOutcome : this.kinds.recoverable, kindOf(event));
        break;
      }
      case 'recovery.done':
        if (!event.reused) f.recoveries[event.cause] = (f.recoveries[event.cause] ?? 0) + 1;
        break;
      case 'recovery.failed':
        f.recoveriesFailed++;
        count(this.kinds.recoveryFailed, `${event.cause}: ${withoutSpecifics(event.reason)}`);
        break;
      case 'session.unknown':
        f.unknownSessions++;
        break;
      case 'inflight.ended': {
        const key = ({ replayed: 'replayed', retried: 'retried', 'unknown-outcome': 'unknownOutcome', 'stream-closed': 'streamsClosed' } as const)[event.outcome];
        f.inFlightEnded[key]++;
        if (event.reason === 'pod-unhealthy') f.inFlightEnded.hung++;
        else if (event.reason === 'reset-after-write') f.inFlightEnded.reset++;
        break;
      }
      case 'session.created':
        this.sessionsBorn.set(event.sessionId, event.at);
        break;
      case 'session.deleted':
        this.sessionsBorn.delete(event.sessionId);
        break;
      case 'replica.changed':
        if (event.state === 'running') this.replicaStarts.set(event.replica, { count: (this.replicaStarts.get(event.replica)?.count ?? 0) + 1, at: event.at });
        break;
      case 'request.routed': {
        if (!event.sessionId || event.status >= 400) break;
        const born = this.sessionsBorn.get(event.sessionId);
        const started = this.replicaStarts.get(event.replicaId);
        // A replica's first start is no restart: only its later starts threw memory away.
        if (born !== undefined && started && started.count > 1 && born < started.at) f.servedAfterReplicaRestart++;
        break;
      }
      case 'store.restored':
        f.storeRestored++;
        break;
    }
  }

  /** The figures so far (a copy). */
  result(): SoakFigures {
    const sorted = (kinds: Map<string, number>) => [...kinds].map(([what, n]) => ({ what, count: n })).sort((a, b) => b.count - a.count);
    return structuredClone({
      ...this.figures,
      latencyMs: { p50: this.quantile(0.5), p99: this.quantile(0.99) },
      errorKinds: { recoverable: sorted(this.kinds.recoverable), unknownOutcome: sorted(this.kinds.unknownOutcome) },
      recoveryFailures: sorted(this.kinds.recoveryFailed),
    });
  }

  private quantile(q: number): number {
    const total = this.figures.calls;
    if (total === 0) return 0;
    const rank = Math.min(total - 1, Math.floor(q * total));
    let seen = 0;
    for (let ms = 0; ms < LATENCY_BUCKETS; ms++) {
      seen += this.latencies[ms]!;
      if (seen > rank) return ms;
    }
    return LATENCY_BUCKETS - 1;
  }
}

type CallEvent = Extract<LabEvent, { type: 'traffic.call' }>;

/**
 * The proxy's "outcome unknown" answer (JSON-RPC -32050): an MCP error to the SDK, or, for a
 * notification (which expects no answer), the same error body with an HTTP 502.
 */
export function isUnknownOutcome(call: CallEvent): boolean {
  return call.rpcCode === UNKNOWN_OUTCOME || (call.error ?? '').includes(`"code":${UNKNOWN_OUTCOME}`);
}

/** What an error said, without what differs from one occurrence to the next (session tags, ports, request ids). */
function kindOf(call: CallEvent): string {
  const said = withoutSpecifics((call.error ?? 'no message').replace(/^Streamable HTTP error: /, ''));
  const code = call.status !== null ? ` (HTTP ${call.status})` : call.rpcCode !== null ? ` (JSON-RPC ${call.rpcCode})` : '';
  return `${call.method || 'connect'}${code}: ${said}`;
}

/** A message without what differs from one occurrence to the next: session tags, ports, replica numbers, request ids. */
function withoutSpecifics(message: string): string {
  return message
    .replace(/\bs-[A-Za-z0-9_-]{10}(?![\w-])/g, 's-…')
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:…')
    .replace(/replica-\d+/g, 'replica-N')
    .replace(/,?"id":\d+/g, '')
    .slice(0, 240);
}

function count(kinds: Map<string, number>, kind: string): void {
  const key = kinds.has(kind) || kinds.size < MAX_KINDS ? kind : 'other';
  kinds.set(key, (kinds.get(key) ?? 0) + 1);
}
