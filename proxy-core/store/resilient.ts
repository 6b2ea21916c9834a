import { setTimeout as sleep } from 'node:timers/promises';
import type { SessionRecord } from '../session/record.ts';
import { messageOf } from '../errors.ts';
import type { RedisStore } from './redis.ts';
import { StoreUnavailableError, type CommitResult, type RecoveryClaim, type SessionStore } from './store.ts';

export interface ResilientStoreHooks {
  onError(operation: string, error: unknown): void;
  onRestored(flushed: number): void;
}

/** How many last-read records a replica keeps for outages. */
const MAX_COPIES = 50_000;
/** How stale the copies' least-recently-used order may be (see `remember`). */
const REORDER_MS = 1000;
/**
 * After Redis came back empty, how long a miss waits for other replicas' write-backs (each
 * replica finds the restart when its own connection comes back, some later than others; a
 * replica that connected only after the restart counts from Redis's own start).
 */
const WRITE_BACK_GRACE_MS = 4000;
const WRITE_BACK_POLL_MS = 100;
/** How long a replica that stops waits for Redis to take the writes it kept (see `close`). */
const HAND_OVER_MS = 3000;
/** Writes of a flush in flight at once (ioredis pipelines them). */
const FLUSH_BATCH = 100;

/** This replica's copy of a record. */
interface Copy {
  record: SessionRecord;
  /** The session's initialize body, when this replica has it (it created the session, or recovered it). */
  initializeBody: string | null;
  /** When this replica last wrote or read the record (epoch ms). */
  touchedAt: number;
  /** When the copy last moved to the most recently used end of `copies` (epoch ms). */
  movedAt: number;
  /** The initialize body is being read from Redis (see `keepInitialize`). */
  fetchingInitialize?: boolean;
}

/**
 * Redis with a safety net (DESIGN.md item 7). Every successful read leaves a copy in this
 * replica's memory; while Redis fails, sessions with a copy keep working from it, writes
 * are kept and flushed when Redis answers again, and only sessions this replica never saw
 * get `StoreUnavailableError`. With Redis up, reads always go to Redis: copies never
 * serve a request that Redis could answer.
 *
 * A Redis that comes back empty (another process) gets back what this replica wrote or read
 * within the records' TTL — never a session deleted meanwhile (Redis keeps its tombstone) —
 * in batches, a failed write kept for the next attempt without stopping the rest. Reads do
 * not wait for that flush: a read that misses a record this replica is about to write back
 * writes that one first.
 */
export class ResilientStore implements SessionStore {
  readonly kind = 'redis';
  private readonly copies = new Map<string, Copy>();
  /** Writes made while Redis was away: a copy to upsert, or null for a deletion. */
  private readonly pending = new Map<string, Copy | null>();
  /** Set from the moment Redis is back until this replica has caught up with it. */
  private restoring: Promise<void> | null = null;
  /** Whether the Redis that came back is another process: known after one round trip. */
  private restartCheck: Promise<boolean> | null = null;
  /** A restarted Redis is being given this replica's copies back. */
  private writingBack = false;
  /** When this replica last found Redis restarted (empty): misses soon after may be sessions other replicas are writing back. */
  private restartSeenAt = 0;
  /** Set once `close` was called: it runs once. */
  private closing: Promise<void> | null = null;
  private readonly inner: RedisStore;
  private readonly hooks: ResilientStoreHooks;
  private readonly ttlMs: number;

  /** @param ttlSeconds the records' TTL (0: none): only copies touched within it are written back. */
  constructor(inner: RedisStore, hooks: ResilientStoreHooks, ttlSeconds: number) {
    this.inner = inner;
    this.hooks = hooks;
    this.ttlMs = ttlSeconds * 1000;
  }

  /** Called by the Redis connection as soon as it is ready again: catches up in the background. */
  reconnected(): void {
    if (this.restoring) return;
    const check = this.inner.restarted();
    this.restartCheck = check;
    this.restoring = check
      .then((restarted) => {
        if (restarted) this.restartSeenAt = Date.now();
        return this.flush(restarted);
      })
      .finally(() => {
        this.restoring = null;
        this.restartCheck = null;
        this.writingBack = false;
      });
  }

  /** Resolves once a catch-up under way (if any) is over; for tests and shutdown. */
  async settled(): Promise<void> {
    await this.restoring;
  }

  /**
   * Writes what was kept while Redis was away, and — when Redis is another process, which may
   * have lost everything — this replica's fresh copies too.
   */
  private async flush(restarted: boolean): Promise<void> {
    const writes: [string, Copy | null][] = [...this.pending];
    this.writingBack = restarted;
    if (restarted) {
      for (const [id, copy] of this.copies) if (!this.pending.has(id) && this.fresh(copy)) writes.push([id, copy]);
    }
    let flushed = 0;
    const failures: unknown[] = [];
    for (let i = 0; i < writes.length; i += FLUSH_BATCH) {
      await Promise.all(writes.slice(i, i + FLUSH_BATCH).map(async ([id, copy]) => {
        try {
          if (copy) await this.inner.upsertNewer(copy.record, copy.initializeBody);
          else await this.inner.delete(id);
          if (this.pending.get(id) === copy) this.pending.delete(id);
          flushed++;
        } catch (error) {
          failures.push(error);
          if (!this.pending.has(id)) this.pending.set(id, copy); // tried again when Redis next comes back
        }
      }));
    }
    if (failures.length > 0) {
      this.hooks.onError('flush', new Error(`${failures.length} of ${writes.length} write(s) failed and are kept to try again: ${messageOf(failures[0])}`));
    }
    this.hooks.onRestored(flushed);
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    let record: SessionRecord | undefined;
    try {
      record = (await this.inner.get(id)) ?? (await this.missed(id));
    } catch (error) {
      this.hooks.onError('get', error);
      const copy = this.copies.get(id) ?? this.pending.get(id);
      if (copy) {
        this.remember(copy.record);
        return copy.record;
      }
      if (this.pending.get(id) === null) return undefined;
      throw new StoreUnavailableError(error);
    }
    if (record) this.keepInitialize(this.remember(record));
    else this.copies.delete(id);
    return record;
  }

  /**
   * A copy without its initialize body gets it once, off the request's path: a Redis that
   * comes back empty then gets both back from any replica that served the session, and a
   * recovery while Redis is away can replay it. One extra read per session per replica.
   */
  private keepInitialize(copy: Copy): void {
    if (copy.initializeBody !== null || copy.fetchingInitialize) return;
    copy.fetchingInitialize = true;
    const id = copy.record.clientSessionId;
    this.inner.initializeBody(id).then(
      (body) => {
        if (body !== undefined && copy.initializeBody === null) copy.initializeBody = body;
      },
      () => {}, // Redis away: the next read tries again
    ).finally(() => (copy.fetchingInitialize = false));
  }

  async initializeBody(id: string): Promise<string | undefined> {
    let stored: string | undefined;
    try {
      stored = await this.inner.initializeBody(id);
    } catch (error) {
      this.hooks.onError('initialize', error);
      const local = this.localInitialize(id);
      if (local) return local;
      throw new StoreUnavailableError(error);
    }
    if (stored === undefined) return this.localInitialize(id) ?? undefined;
    const copy = this.copies.get(id);
    if (copy) copy.initializeBody = stored; // for a recovery while Redis is away
    return stored;
  }

  async create(record: SessionRecord, initializeBody: string): Promise<void> {
    const copy = this.remember(record, initializeBody);
    try {
      await this.inner.create(record, initializeBody);
    } catch (error) {
      this.hooks.onError('create', error);
      this.pending.set(record.clientSessionId, copy);
    }
  }

  async claimRecovery(id: string, generation: number, owner: string): Promise<RecoveryClaim> {
    try {
      const claim = await this.inner.claimRecovery(id, generation, owner);
      // Missing from a Redis that came back empty: once written back (by this replica or another), claim again.
      if (claim.kind === 'missing' && (await this.missed(id))) return await this.inner.claimRecovery(id, generation, owner);
      return claim;
    } catch (error) {
      // Nobody can coordinate without the store: this replica recovers on its own copy.
      this.hooks.onError('claim', error);
      const copy = this.copies.get(id);
      if (!copy) return { kind: 'missing' };
      return copy.record.generation === generation ? { kind: 'won' } : { kind: 'moved', record: copy.record };
    }
  }

  async commitRecovery(next: SessionRecord, owner: string): Promise<CommitResult> {
    try {
      let result = await this.inner.commitRecovery(next, owner);
      if (result.kind === 'missing') result = await this.committedToEmptiedRedis(next);
      if (result.kind === 'ok') this.remember(next);
      else if (result.kind === 'moved') this.remember(result.record);
      return result;
    } catch (error) {
      this.hooks.onError('commit', error);
      this.pending.set(next.clientSessionId, this.remember(next));
      return { kind: 'ok' };
    }
  }

  async releaseRecovery(id: string, owner: string): Promise<void> {
    try {
      await this.inner.releaseRecovery(id, owner);
    } catch (error) {
      this.hooks.onError('release', error); // the lock expires by itself
    }
  }

  async delete(id: string): Promise<void> {
    this.copies.delete(id);
    try {
      await this.inner.delete(id);
      this.pending.delete(id);
    } catch (error) {
      this.hooks.onError('delete', error);
      this.pending.set(id, null);
    }
  }

  /** Sessions this replica has a copy of: the ones it has served. */
  size(): number {
    return this.copies.size;
  }

  /**
   * Writes Redis has not got die with this replica's memory (a session created while Redis was
   * away, or one a restarted Redis lost): a catch-up under way may finish, and Redis, away just
   * now, gets a moment to come back and take them. What is left is said, not dropped silently.
   */
  close(): Promise<void> {
    return (this.closing ??= this.handOverAndClose());
  }

  private async handOverAndClose(): Promise<void> {
    const deadline = Date.now() + HAND_OVER_MS;
    while ((this.restoring || this.pending.size > 0) && Date.now() < deadline) {
      if (this.restoring) await Promise.race([this.restoring, sleep(deadline - Date.now(), undefined, { ref: false })]);
      else if (!this.inner.ready) await sleep(WRITE_BACK_POLL_MS);
      else {
        await this.flush(false);
        if (this.pending.size > 0) await sleep(WRITE_BACK_POLL_MS);
      }
    }
    if (this.pending.size > 0) {
      this.hooks.onError('close', new Error(`${this.pending.size} write(s) kept while Redis was away did not reach it before this replica stopped: sessions no other replica served are lost`));
    }
    await this.inner.close();
  }

  /**
   * A record Redis does not have: this replica's own pending or fresh copy, written back now,
   * or — shortly after Redis came back empty — the one another replica is writing back,
   * waited for briefly. Undefined when it is really gone.
   */
  private async missed(id: string): Promise<SessionRecord | undefined> {
    if (this.restartCheck) await this.restartCheck; // one round trip, not the flush
    const local = this.awaitingWriteBack(id);
    if (local) return this.writeBack(local);
    while (this.recentlyRestarted()) {
      await sleep(WRITE_BACK_POLL_MS);
      const record = await this.inner.get(id);
      if (record) return record;
    }
    return undefined;
  }

  /**
   * A commit found no record. When Redis came back empty while this replica re-initialized the
   * session, the new generation is written back (from this replica's copy) — unless the session
   * was deleted meanwhile (its tombstone), or another replica wrote a newer generation back
   * first: then the session moved on to that one. Otherwise it is really gone.
   */
  private async committedToEmptiedRedis(next: SessionRecord): Promise<CommitResult> {
    if (this.restartCheck) await this.restartCheck;
    if (!this.recentlyRestarted()) return { kind: 'missing' };
    const copy = this.copies.get(next.clientSessionId);
    if (copy && (await this.inner.upsertNewer(next, copy.initializeBody))) return { kind: 'ok' };
    const current = await this.inner.get(next.clientSessionId);
    return current ? { kind: 'moved', record: current } : { kind: 'missing' };
  }

  /**
   * Redis (re)started moments ago, by its own uptime (a replica that connected only after the
   * restart never saw one) or by when this replica found it: it may still be getting its
   * sessions back from the replicas.
   */
  private recentlyRestarted(): boolean {
    return Date.now() - Math.max(this.restartSeenAt, this.inner.redisStartedAt ?? 0) < WRITE_BACK_GRACE_MS;
  }

  /** What this replica is about to write for `id`: a pending write, or a fresh copy while a restarted Redis is given them back. */
  private awaitingWriteBack(id: string): Copy | undefined {
    const pending = this.pending.get(id);
    if (pending !== undefined) return pending ?? undefined;
    const copy = this.writingBack || this.recentlyRestarted() ? this.copies.get(id) : undefined;
    return copy && this.fresh(copy) ? copy : undefined;
  }

  /** Writes one copy back now (a read is waiting for it); Redis's newer record or tombstone wins. */
  private async writeBack(copy: Copy): Promise<SessionRecord | undefined> {
    const id = copy.record.clientSessionId;
    if (!(await this.inner.upsertNewer(copy.record, copy.initializeBody))) return this.inner.get(id);
    if (this.pending.get(id) === copy) this.pending.delete(id);
    return copy.record;
  }

  private localInitialize(id: string): string | null {
    return this.copies.get(id)?.initializeBody ?? this.pending.get(id)?.initializeBody ?? null;
  }

  private fresh(copy: Copy): boolean {
    return this.ttlMs === 0 || Date.now() - copy.touchedAt < this.ttlMs;
  }

  private remember(record: SessionRecord, initializeBody?: string): Copy {
    const id = record.clientSessionId;
    let copy = this.copies.get(id);
    const now = Date.now();
    if (copy) {
      copy.record = record;
      copy.touchedAt = now;
      if (initializeBody !== undefined) copy.initializeBody = initializeBody;
      // Map order is least recently used first. A copy moves to the end at most once a second:
      // a delete and a set on every read rebuilds the Map's table every few reads.
      if (now - copy.movedAt < REORDER_MS) return copy;
      this.copies.delete(id);
      copy.movedAt = now;
    } else {
      copy = { record, initializeBody: initializeBody ?? null, touchedAt: now, movedAt: now };
    }
    this.copies.set(id, copy);
    if (this.copies.size > MAX_COPIES) {
      const oldest = this.copies.keys().next().value;
      if (oldest !== undefined) this.copies.delete(oldest);
    }
    return copy;
  }
}
