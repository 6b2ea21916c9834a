import type { SessionRecord } from '../session/record.ts';
import type { RedisStore } from './redis.ts';
import { StoreUnavailableError, type CommitResult, type RecoveryClaim, type SessionStore } from './store.ts';

export interface ResilientStoreHooks {
  onError(operation: string, error: unknown): void;
  onRestored(flushed: number): void;
}

/** How many last-read records a replica keeps for outages. */
const MAX_COPIES = 50_000;

/**
 * Redis with a safety net (DESIGN.md item 7). Every successful read leaves a copy in this
 * replica's memory; while Redis fails, sessions with a copy keep working from it, writes
 * are kept and flushed when Redis answers again, and only sessions this replica never saw
 * get `StoreUnavailableError`. With Redis up, reads always go to Redis: copies never
 * serve a request that Redis could answer.
 */
export class ResilientStore implements SessionStore {
  readonly kind = 'redis';
  private readonly copies = new Map<string, SessionRecord>();
  /** Writes made while Redis was away: a record to upsert, or null for a deletion. */
  private readonly pending = new Map<string, SessionRecord | null>();
  /** Set from the moment Redis is back until this replica has caught up with it. */
  private restoring: Promise<void> | null = null;
  private readonly inner: RedisStore;
  private readonly hooks: ResilientStoreHooks;

  constructor(inner: RedisStore, hooks: ResilientStoreHooks) {
    this.inner = inner;
    this.hooks = hooks;
  }

  /**
   * Called by the Redis connection as soon as it is ready again. Until the store has caught
   * up, reads wait for it: a Redis that came back empty must not answer "unknown session"
   * for sessions this replica is about to write back.
   */
  reconnected(): void {
    this.restoring ??= this.inner.restarted()
      .then((restarted) => this.flush(restarted))
      .finally(() => (this.restoring = null));
  }

  /**
   * Writes what was kept while Redis was away. A restarted Redis may have lost everything:
   * then every session this replica holds a copy of is written back too (unless Redis
   * already has a newer generation).
   */
  private async flush(restarted: boolean): Promise<void> {
    let flushed = 0;
    if (restarted) {
      for (const record of [...this.copies.values()]) {
        if (this.pending.has(record.clientSessionId)) continue;
        try {
          await this.inner.upsertNewer(record);
          flushed++;
        } catch (error) {
          this.hooks.onError('flush', error);
          return;
        }
      }
    }
    for (const [id, record] of [...this.pending]) {
      try {
        if (record) await this.inner.upsertNewer(record);
        else await this.inner.delete(id);
        if (this.pending.get(id) === record) this.pending.delete(id);
        flushed++;
      } catch (error) {
        this.hooks.onError('flush', error);
        return;
      }
    }
    this.hooks.onRestored(flushed);
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    if (this.restoring) await this.restoring;
    try {
      const record = await this.inner.get(id);
      if (record) this.remember(record);
      else this.copies.delete(id);
      return record;
    } catch (error) {
      this.hooks.onError('get', error);
      const copy = this.copies.get(id);
      if (copy) return copy;
      if (this.pending.get(id) === null) return undefined;
      throw new StoreUnavailableError(error);
    }
  }

  async create(record: SessionRecord): Promise<void> {
    this.remember(record);
    try {
      await this.inner.create(record);
    } catch (error) {
      this.hooks.onError('create', error);
      this.pending.set(record.clientSessionId, record);
    }
  }

  async claimRecovery(id: string, generation: number, owner: string): Promise<RecoveryClaim> {
    try {
      return await this.inner.claimRecovery(id, generation, owner);
    } catch (error) {
      // Nobody can coordinate without the store: this replica recovers on its own copy.
      this.hooks.onError('claim', error);
      const copy = this.copies.get(id);
      if (!copy) return { kind: 'missing' };
      return copy.generation === generation ? { kind: 'won' } : { kind: 'moved', record: copy };
    }
  }

  async commitRecovery(next: SessionRecord, owner: string): Promise<CommitResult> {
    try {
      const result = await this.inner.commitRecovery(next, owner);
      if (result.kind === 'ok') this.remember(next);
      else if (result.kind === 'moved') this.remember(result.record);
      return result;
    } catch (error) {
      this.hooks.onError('commit', error);
      this.remember(next);
      this.pending.set(next.clientSessionId, next);
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

  async close(): Promise<void> {
    await this.inner.close();
  }

  private remember(record: SessionRecord): void {
    const id = record.clientSessionId;
    // Re-insert so that Map order is least-recently-used first.
    this.copies.delete(id);
    this.copies.set(id, record);
    if (this.copies.size > MAX_COPIES) {
      const oldest = this.copies.keys().next().value;
      if (oldest !== undefined) this.copies.delete(oldest);
    }
  }
}
