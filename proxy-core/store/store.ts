import type { SessionRecord } from '../session/record.ts';

/** The answer to "may I re-initialize this session at this generation?". */
export type RecoveryClaim =
  /** Yes: this owner holds the session's recovery lock until it commits or the lock expires. */
  | { kind: 'won' }
  /** Someone already recovered it: the record has moved on to a newer generation. */
  | { kind: 'moved'; record: SessionRecord }
  /** Someone else is recovering it right now: wait and re-read. */
  | { kind: 'busy' }
  /** The session is gone (deleted or expired). */
  | { kind: 'missing' };

export type CommitResult =
  | { kind: 'ok' }
  | { kind: 'moved'; record: SessionRecord }
  | { kind: 'missing' }
  /** The lock is no longer this owner's (it expired, and another may hold it now): nothing was written. */
  | { kind: 'lost' };

/**
 * Where replicas keep session records. `get` is the hot path: one round trip, and it
 * refreshes the TTL. Recovery is a compare-and-set on the record's generation, under a lock
 * with an owner.
 */
export interface SessionStore {
  readonly kind: 'memory' | 'redis';
  get(id: string): Promise<SessionRecord | undefined>;
  /** The session's initialize body, kept apart from its record: read by recovery only. */
  initializeBody(id: string): Promise<string | undefined>;
  create(record: SessionRecord, initializeBody: string): Promise<void>;
  /** Take the recovery lock for `id` if its stored generation is still `generation`. */
  claimRecovery(id: string, generation: number, owner: string): Promise<RecoveryClaim>;
  /** Store `next` if the stored generation is still `next.generation - 1` and `owner` still holds the lock; releases it. */
  commitRecovery(next: SessionRecord, owner: string): Promise<CommitResult>;
  /** Give the lock back without writing (the re-initialization failed). */
  releaseRecovery(id: string, owner: string): Promise<void>;
  delete(id: string): Promise<void>;
  /** Sessions this store holds, where it can tell cheaply (memory); undefined otherwise. */
  size(): number | undefined;
  close(): Promise<void>;
}

/** How long a recovery lock lives when its owner dies before committing. */
export const RECOVERY_LOCK_MS = 10_000;

/** Thrown when the store cannot answer and no local copy can stand in. */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`session store unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StoreUnavailableError';
  }
}
