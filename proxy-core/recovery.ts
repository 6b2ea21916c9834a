import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf } from './errors.ts';
import { CallCutError } from './inflight.ts';
import type { ProxyEvents, RecoveryCause } from './events.ts';
import { upstreamHeaders, withoutHeader } from './http/headers.ts';
import { sessionTag } from './session/id.ts';
import type { SessionRecord } from './session/record.ts';
import { RECOVERY_LOCK_MS, type SessionStore } from './store/store.ts';
import { SERVICE_ORIGIN, transportCause, type InitializeWatch, type Upstream } from './upstream/upstream.ts';

/** The session was deleted or expired while it was being recovered. */
export class SessionGoneError extends Error {
  override name = 'SessionGoneError';
}

export class RecoveryFailedError extends Error {
  override name = 'RecoveryFailedError';
}

const INITIALIZED = Buffer.from('{"jsonrpc":"2.0","method":"notifications/initialized"}');
// While another replica holds the lock, re-read the record this often.
const POLL_MS = 20;
/** A pod that answered the replayed initialize gets this long to answer `notifications/initialized`. */
const INITIALIZED_TIMEOUT_MS = 10_000;
/**
 * Handshakes one recovery tries at least, each through the service (which itself tries up to
 * three pods when they refuse); with more pods than that, as many as there are pods — while
 * pods are being killed, several in a row can die under a handshake.
 */
const HANDSHAKE_ATTEMPTS = 3;

export interface RecovererDeps {
  replicaId: string;
  store: SessionStore;
  upstream: Upstream;
  events: ProxyEvents;
  /** Watches the replayed initialize while it waits on a pod (so a pod that stops answering is passed over). */
  watchInitialize?: (sessionId: string) => InitializeWatch;
}

/**
 * Transparent re-initialization (DESIGN.md item 4): one per session per generation. Requests
 * of this replica that fail together share one attempt; replicas decide by a
 * compare-and-set on the record's generation in the store, and losers reuse the winner's pod.
 */
export class Recoverer {
  private readonly deps: RecovererDeps;
  /** Identifies this proxy instance as a lock owner; a restarted replica is a new owner. */
  private readonly owner: string;
  private readonly running = new Map<string, Promise<SessionRecord>>();

  constructor(deps: RecovererDeps) {
    this.deps = deps;
    this.owner = `${deps.replicaId}#${randomBytes(6).toString('hex')}`;
  }

  /**
   * Resolves with the record to replay on: a new generation, with a new pod and backend
   * session. `rawHeaders` and `query` are the failed request's (auth and the like go along).
   */
  recover(record: SessionRecord, rawHeaders: readonly string[], query: string, cause: RecoveryCause): Promise<SessionRecord> {
    const key = `${record.clientSessionId}:${record.generation}`;
    let attempt = this.running.get(key);
    if (!attempt) {
      attempt = this.run(record, rawHeaders, query, cause).finally(() => this.running.delete(key));
      this.running.set(key, attempt);
    }
    return attempt;
  }

  private async run(record: SessionRecord, rawHeaders: readonly string[], query: string, cause: RecoveryCause): Promise<SessionRecord> {
    const { store, events, replicaId } = this.deps;
    const id = record.clientSessionId;
    const fromPod = podOf(record.target);
    const started = performance.now();
    if (events.wants('recovery.started')) {
      events.emit('recovery.started', { at: Date.now(), replicaId, sessionId: id, fromPod, cause, generation: record.generation });
    }
    const done = (next: SessionRecord, reused: boolean): SessionRecord => {
      if (events.wants('recovery.done')) {
        events.emit('recovery.done', {
          at: Date.now(), replicaId, sessionId: id, fromPod, toPod: podOf(next.target), cause,
          generation: next.generation, durationMs: performance.now() - started, reused,
        });
      }
      return next;
    };
    try {
      // Long enough for a holder that uses its whole lock, then for this replica's own attempt once it expires.
      const deadline = Date.now() + 2 * RECOVERY_LOCK_MS;
      for (;;) {
        const claim = await store.claimRecovery(id, record.generation, this.owner);
        if (claim.kind === 'missing') throw new SessionGoneError(`session ${sessionTag(id)} is gone: the store has no record of it to claim`);
        if (claim.kind === 'moved') return done(claim.record, true);
        if (claim.kind === 'won') {
          const result = await this.reinitialize(record, rawHeaders, query);
          if (result) return done(result.record, result.reused);
          continue; // our lock expired before the commit: claim again
        }
        // busy: another replica is re-initializing; wait for its record
        if (Date.now() > deadline) throw new RecoveryFailedError('timed out waiting for another replica to re-initialize the session');
        await sleep(POLL_MS);
        const current = await store.get(id);
        if (!current) throw new SessionGoneError(`session ${sessionTag(id)} is gone: its record went while another replica re-initialized it`);
        if (current.generation > record.generation) return done(current, true);
      }
    } catch (error) {
      if (events.wants('recovery.failed')) {
        events.emit('recovery.failed', {
          at: Date.now(), replicaId, sessionId: id, fromPod, cause, reason: messageOf(error),
        });
      }
      throw error;
    }
  }

  /** Re-initializes under the lock and commits; null when the lock was lost before the commit. */
  private async reinitialize(
    record: SessionRecord, rawHeaders: readonly string[], query: string,
  ): Promise<{ record: SessionRecord; reused: boolean } | null> {
    const { store, upstream, replicaId } = this.deps;
    let fresh: { backendSessionId: string; podUrl: string };
    try {
      fresh = await this.handshakeSomewhere(record, rawHeaders, query);
    } catch (error) {
      await store.releaseRecovery(record.clientSessionId, this.owner);
      throw error;
    }
    const next: SessionRecord = {
      ...record,
      backendSessionId: fresh.backendSessionId,
      target: record.pinning === 'pod' ? fresh.podUrl : SERVICE_ORIGIN + upstream.service.path,
      generation: record.generation + 1,
      reinitCount: record.reinitCount + 1,
      lastSeenAt: Date.now(),
      lastReplicaId: replicaId,
    };
    const commit = await store.commitRecovery(next, this.owner);
    if (commit.kind === 'ok') return { record: next, reused: false };
    // Our lock expired (someone else may be re-initializing, or have won): ours is an orphan.
    void this.discard(fresh.podUrl, fresh.backendSessionId);
    if (commit.kind === 'missing') throw new SessionGoneError(`session ${sessionTag(record.clientSessionId)} is gone: its record went before this re-initialization was stored`);
    return commit.kind === 'moved' ? { record: commit.record, reused: true } : null;
  }

  /**
   * The handshake, tried again while pods fail it: when pods are dying or freezing, the one
   * the replayed initialize reached may go before it answers (or before `initialized`), and
   * the pods that failed are passed over from then on (their failure marks them unhealthy).
   * Bounded by attempts (one per pod, at least three) and by the lock's life: a commit after
   * the lock expired is lost.
   */
  private async handshakeSomewhere(
    record: SessionRecord, rawHeaders: readonly string[], query: string,
  ): Promise<{ backendSessionId: string; podUrl: string }> {
    // Room left for the commit before the lock (taken just now) expires.
    const until = Date.now() + RECOVERY_LOCK_MS - 2000;
    const failures: string[] = [];
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.handshake(record, rawHeaders, query);
      } catch (error) {
        const podFailed = error instanceof RecoveryFailedError || transportCause(error) !== null || error instanceof CallCutError
          || (error as { code?: string } | null)?.code === 'UND_ERR_HEADERS_TIMEOUT';
        if (!podFailed) throw error;
        failures.push(messageOf(error));
        if (attempt >= Math.max(HANDSHAKE_ATTEMPTS, this.deps.upstream.service.size) || Date.now() > until) {
          throw attempt === 1 ? error : new RecoveryFailedError(`${attempt} handshakes failed: ${failures.join('; ')}`, { cause: error });
        }
      }
    }
  }

  /** initialize through the service, then `notifications/initialized` to the pod it reached. */
  private async handshake(
    record: SessionRecord, rawHeaders: readonly string[], query: string,
  ): Promise<{ backendSessionId: string; podUrl: string }> {
    const { upstream, store, watchInitialize } = this.deps;
    const initializeBody = await store.initializeBody(record.clientSessionId);
    if (initializeBody === undefined) throw new SessionGoneError(`session ${sessionTag(record.clientSessionId)} has no stored initialize left to replay`);
    const headers = upstreamHeaders(rawHeaders, null, {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    });
    const answer = await upstream.initialize(
      withoutHeader(headers, 'last-event-id'), Buffer.from(initializeBody), query, watchInitialize?.(record.clientSessionId),
    );
    answer.rest?.destroy();
    const backendSessionId = answer.headers['mcp-session-id'];
    if (answer.statusCode >= 300 || typeof backendSessionId !== 'string') {
      throw new RecoveryFailedError(`pod ${answer.pod} answered the replayed initialize with HTTP ${answer.statusCode}${typeof backendSessionId === 'string' ? '' : ' and no session id'}`);
    }
    const podUrl = `http://${answer.pod}${upstream.service.path}`;
    const protocolVersion = /"protocolVersion"\s*:\s*"([^"]+)"/.exec(answer.head.toString('utf8'))?.[1] ?? record.protocolVersion;
    const notify = await upstream.toPod(
      podUrl + query, 'POST',
      upstreamHeaders(headers, backendSessionId, protocolVersion ? { 'mcp-protocol-version': protocolVersion } : undefined),
      INITIALIZED, INITIALIZED_TIMEOUT_MS,
    );
    await notify.body.dump();
    if (notify.statusCode >= 300) {
      throw new RecoveryFailedError(`pod ${answer.pod} answered notifications/initialized with HTTP ${notify.statusCode}`);
    }
    return { backendSessionId, podUrl };
  }

  private async discard(podUrl: string, backendSessionId: string): Promise<void> {
    try {
      const response = await this.deps.upstream.toPod(podUrl, 'DELETE', ['mcp-session-id', backendSessionId], null, INITIALIZED_TIMEOUT_MS);
      await response.body.dump();
    } catch {
      // best effort: the pod's own session timeout cleans up
    }
  }
}

/** `host:port` of a target URL (the pod id in events), or `service`. */
export function podOf(target: string): string {
  if (target.startsWith(SERVICE_ORIGIN + '/')) return 'service';
  const start = target.indexOf('//') + 2;
  const end = target.indexOf('/', start);
  return target.slice(start, end === -1 ? undefined : end);
}
