import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProxyEvents, RecoveryCause } from './events.ts';
import { upstreamHeaders } from './http/headers.ts';
import type { SessionRecord } from './session/record.ts';
import { RECOVERY_LOCK_MS, type SessionStore } from './store/store.ts';
import { SERVICE_ORIGIN, type Upstream } from './upstream/upstream.ts';

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

export interface RecovererDeps {
  replicaId: string;
  store: SessionStore;
  upstream: Upstream;
  events: ProxyEvents;
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
   * session. `rawHeaders` are the failed request's (auth and the like go along).
   */
  recover(record: SessionRecord, rawHeaders: readonly string[], cause: RecoveryCause): Promise<SessionRecord> {
    const key = `${record.clientSessionId}:${record.generation}`;
    let attempt = this.running.get(key);
    if (!attempt) {
      attempt = this.run(record, rawHeaders, cause).finally(() => this.running.delete(key));
      this.running.set(key, attempt);
    }
    return attempt;
  }

  private async run(record: SessionRecord, rawHeaders: readonly string[], cause: RecoveryCause): Promise<SessionRecord> {
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
      const deadline = Date.now() + RECOVERY_LOCK_MS + 1000;
      for (;;) {
        const claim = await store.claimRecovery(id, record.generation, this.owner);
        if (claim.kind === 'missing') throw new SessionGoneError(`session ${id} is gone`);
        if (claim.kind === 'moved') return done(claim.record, true);
        if (claim.kind === 'won') return await this.reinitialize(record, rawHeaders, done);
        // busy: another replica is re-initializing; wait for its record
        if (Date.now() > deadline) throw new RecoveryFailedError('timed out waiting for another replica to re-initialize the session');
        await sleep(POLL_MS);
        const current = await store.get(id);
        if (!current) throw new SessionGoneError(`session ${id} is gone`);
        if (current.generation > record.generation) return done(current, true);
      }
    } catch (error) {
      if (events.wants('recovery.failed')) {
        events.emit('recovery.failed', {
          at: Date.now(), replicaId, sessionId: id, fromPod, cause, reason: error instanceof Error ? error.message : String(error),
        });
      }
      throw error;
    }
  }

  private async reinitialize(
    record: SessionRecord,
    rawHeaders: readonly string[],
    done: (next: SessionRecord, reused: boolean) => SessionRecord,
  ): Promise<SessionRecord> {
    const { store, upstream, replicaId } = this.deps;
    let fresh: { backendSessionId: string; podUrl: string };
    try {
      fresh = await this.handshake(record, rawHeaders);
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
    if (commit.kind === 'ok') return done(next, false);
    // Our lock expired and someone else won: their session stands, ours is an orphan.
    void this.discard(fresh.podUrl, fresh.backendSessionId);
    if (commit.kind === 'missing') throw new SessionGoneError(`session ${record.clientSessionId} is gone`);
    return done(commit.record, true);
  }

  /** initialize through the service, then `notifications/initialized` to the pod it reached. */
  private async handshake(record: SessionRecord, rawHeaders: readonly string[]): Promise<{ backendSessionId: string; podUrl: string }> {
    const { upstream } = this.deps;
    const headers = upstreamHeaders(rawHeaders, null, {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    });
    const { response, pod } = await upstream.initialize(withoutHeader(headers, 'last-event-id'), Buffer.from(record.initializeBody));
    const text = await response.body.text();
    const backendSessionId = response.headers['mcp-session-id'];
    if (response.statusCode >= 300 || typeof backendSessionId !== 'string') {
      throw new RecoveryFailedError(`pod ${pod} answered the replayed initialize with HTTP ${response.statusCode}${typeof backendSessionId === 'string' ? '' : ' and no session id'}`);
    }
    const podUrl = `http://${pod}${upstream.service.path}`;
    const version = /"protocolVersion"\s*:\s*"([^"]+)"/.exec(text)?.[1] ?? record.protocolVersion;
    const notify = await upstream.toPod(
      podUrl, 'POST',
      upstreamHeaders(headers, backendSessionId, version ? { 'mcp-protocol-version': version } : undefined),
      INITIALIZED,
    );
    await notify.body.dump();
    if (notify.statusCode >= 300) {
      throw new RecoveryFailedError(`pod ${pod} answered notifications/initialized with HTTP ${notify.statusCode}`);
    }
    return { backendSessionId, podUrl };
  }

  private async discard(podUrl: string, backendSessionId: string): Promise<void> {
    try {
      const response = await this.deps.upstream.toPod(podUrl, 'DELETE', ['mcp-session-id', backendSessionId], null);
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

function withoutHeader(headers: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if ((headers[i] as string).toLowerCase() !== name) out.push(headers[i] as string, headers[i + 1] as string);
  }
  return out;
}
