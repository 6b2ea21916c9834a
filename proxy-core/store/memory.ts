import type { SessionRecord } from '../session/record.ts';
import { RECOVERY_LOCK_MS, type CommitResult, type RecoveryClaim, type SessionStore } from './store.ts';

interface Entry {
  record: SessionRecord;
  initializeBody: string;
  expiresAt: number;
}

/** Per-replica store: records live in this process's memory and die with it. */
export class MemoryStore implements SessionStore {
  readonly kind = 'memory';
  private readonly entries = new Map<string, Entry>();
  private readonly locks = new Map<string, { owner: string; until: number }>();
  private readonly ttlMs: number;
  private readonly sweeper: NodeJS.Timeout;

  /** @param ttlSeconds 0 keeps records until deleted. */
  constructor(ttlSeconds: number) {
    this.ttlMs = ttlSeconds * 1000;
    this.sweeper = setInterval(() => this.sweep(), 60_000).unref();
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const entry = this.live(id);
    if (entry) entry.expiresAt = this.expiry();
    return entry?.record;
  }

  async initializeBody(id: string): Promise<string | undefined> {
    return this.live(id)?.initializeBody;
  }

  async create(record: SessionRecord, initializeBody: string): Promise<void> {
    this.entries.set(record.clientSessionId, { record, initializeBody, expiresAt: this.expiry() });
  }

  async claimRecovery(id: string, generation: number, owner: string): Promise<RecoveryClaim> {
    const entry = this.live(id);
    if (!entry) return { kind: 'missing' };
    if (entry.record.generation !== generation) return { kind: 'moved', record: entry.record };
    const lock = this.locks.get(id);
    if (lock && lock.until > Date.now() && lock.owner !== owner) return { kind: 'busy' };
    this.locks.set(id, { owner, until: Date.now() + RECOVERY_LOCK_MS });
    return { kind: 'won' };
  }

  async commitRecovery(next: SessionRecord, owner: string): Promise<CommitResult> {
    const id = next.clientSessionId;
    const entry = this.live(id);
    if (!entry) return { kind: 'missing' };
    if (entry.record.generation !== next.generation - 1) return { kind: 'moved', record: entry.record };
    const lock = this.locks.get(id);
    if (!lock || lock.owner !== owner || lock.until <= Date.now()) return { kind: 'lost' };
    this.entries.set(id, { record: next, initializeBody: entry.initializeBody, expiresAt: this.expiry() });
    this.locks.delete(id);
    return { kind: 'ok' };
  }

  async releaseRecovery(id: string, owner: string): Promise<void> {
    if (this.locks.get(id)?.owner === owner) this.locks.delete(id);
  }

  async delete(id: string): Promise<void> {
    this.entries.delete(id);
    this.locks.delete(id);
  }

  size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.entries.clear();
    this.locks.clear();
  }

  private live(id: string): Entry | undefined {
    const entry = this.entries.get(id);
    if (entry && entry.expiresAt <= Date.now()) {
      this.entries.delete(id);
      return undefined;
    }
    return entry;
  }

  private expiry(): number {
    return this.ttlMs > 0 ? Date.now() + this.ttlMs : Number.POSITIVE_INFINITY;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(id);
    for (const [id, lock] of this.locks) if (lock.until <= now) this.locks.delete(id);
  }
}
