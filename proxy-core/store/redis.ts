import { Redis } from 'ioredis';
import { decodeRecord, encodeRecord, type SessionRecord } from '../session/record.ts';
import { RECOVERY_LOCK_MS, type CommitResult, type RecoveryClaim, type SessionStore } from './store.ts';

export interface RedisStoreOptions {
  url: string;
  /** Every key this store writes starts with it (default `pinlab:`). */
  keyPrefix: string;
  /** 0 keeps records until deleted. */
  ttlSeconds: number;
  /** How long a command may take before it counts as a store failure. */
  commandTimeoutMs?: number;
  /**
   * Called, synchronously, when the connection comes back after a failure: before any
   * request can read through it. `restarted()` then tells whether it is another Redis
   * process (its run id changed), whose data may be gone.
   */
  onReady?: () => void;
}

/** What the compare-and-set scripts answer, by name (the scripts below are written with them). */
const CAS = {
  /** No record: the session was deleted or expired. */
  missing: 0,
  /** The record is at another generation: someone recovered it first (the record comes along). */
  moved: 1,
  /** This caller holds the recovery (claim) or wrote the next generation (commit). */
  won: 2,
  /** Another caller holds the recovery lock. */
  busy: 3,
} as const;

// Compare-and-set scripts: Redis runs each atomically, so a recovery is claimed and
// committed by exactly one replica per generation.
const CLAIM = `
local cur = redis.call('GET', KEYS[1])
if not cur then return {${CAS.missing}} end
if cjson.decode(cur).generation ~= tonumber(ARGV[1]) then return {${CAS.moved}, cur} end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[2] then return {${CAS.busy}} end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return {${CAS.won}}`;

const COMMIT = `
local cur = redis.call('GET', KEYS[1])
if not cur then return {${CAS.missing}} end
if cjson.decode(cur).generation ~= tonumber(ARGV[1]) - 1 then return {${CAS.moved}, cur} end
if tonumber(ARGV[4]) > 0 then
  redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[4])
else
  redis.call('SET', KEYS[1], ARGV[3])
end
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
return {${CAS.won}}`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0`;

/** Writes a record kept locally during an outage, unless the store moved past it meanwhile. */
const UPSERT_NEWER = `
local cur = redis.call('GET', KEYS[1])
if cur and cjson.decode(cur).generation >= tonumber(ARGV[1]) then return 0 end
if tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return 1`;

type Reply = [number, string?];

interface Scripts {
  pinlabClaim(record: string, lock: string, generation: number, owner: string, lockMs: number): Promise<Reply>;
  pinlabCommit(record: string, lock: string, generation: number, owner: string, json: string, ttl: number): Promise<Reply>;
  pinlabRelease(lock: string, owner: string): Promise<number>;
  pinlabUpsertNewer(record: string, generation: number, json: string, ttl: number): Promise<number>;
}

/** Shared store: every replica reads and writes the same records in Redis. */
export class RedisStore implements SessionStore {
  readonly kind = 'redis';
  readonly redis: Redis & Scripts;
  private readonly prefix: string;
  private readonly ttl: number;
  /** The connection dropped since it was last ready. */
  private lost = false;
  /** Which Redis process answered last: a new one after a restart. */
  private runId: string | null = null;

  private constructor(options: RedisStoreOptions) {
    this.prefix = options.keyPrefix;
    this.ttl = options.ttlSeconds;
    this.redis = new Redis(options.url, {
      lazyConnect: true,
      // Fail fast instead of queueing: a request must not hang while Redis is away; the
      // resilient layer above answers from the replica's last copies.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Commands issued in the same tick go out in one write: fewer syscalls under load.
      enableAutoPipelining: true,
      commandTimeout: options.commandTimeoutMs ?? 1000,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(100 * times, 1000),
    }) as Redis & Scripts;
    this.redis.defineCommand('pinlabClaim', { numberOfKeys: 2, lua: CLAIM });
    this.redis.defineCommand('pinlabCommit', { numberOfKeys: 2, lua: COMMIT });
    this.redis.defineCommand('pinlabRelease', { numberOfKeys: 1, lua: RELEASE });
    this.redis.defineCommand('pinlabUpsertNewer', { numberOfKeys: 1, lua: UPSERT_NEWER });
    // ioredis reports connection errors here; without a listener Node would crash the process.
    this.redis.on('error', () => {});
    this.redis.on('close', () => {
      this.lost = true;
    });
    this.redis.on('ready', () => {
      if (!this.lost) return;
      this.lost = false;
      options.onReady?.();
    });
  }

  /** Connects, or rejects with the reason Redis could not be reached. */
  static async connect(options: RedisStoreOptions): Promise<RedisStore> {
    const store = new RedisStore(options);
    try {
      await store.redis.connect();
      store.runId = await store.serverRunId();
      store.lost = false;
    } catch (error) {
      store.redis.disconnect();
      throw error;
    }
    return store;
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const key = this.key(id);
    const raw = this.ttl > 0 ? await this.redis.getex(key, 'EX', this.ttl) : await this.redis.get(key);
    return raw === null ? undefined : decodeRecord(raw);
  }

  async create(record: SessionRecord): Promise<void> {
    const key = this.key(record.clientSessionId);
    const json = encodeRecord(record);
    if (this.ttl > 0) await this.redis.set(key, json, 'EX', this.ttl);
    else await this.redis.set(key, json);
  }

  async claimRecovery(id: string, generation: number, owner: string): Promise<RecoveryClaim> {
    const [code, raw] = await this.redis.pinlabClaim(this.key(id), this.lockKey(id), generation, owner, RECOVERY_LOCK_MS);
    if (code === CAS.won) return { kind: 'won' };
    if (code === CAS.busy) return { kind: 'busy' };
    const record = code === CAS.moved && raw ? decodeRecord(raw) : undefined;
    return record ? { kind: 'moved', record } : { kind: 'missing' };
  }

  async commitRecovery(next: SessionRecord, owner: string): Promise<CommitResult> {
    const id = next.clientSessionId;
    const [code, raw] = await this.redis.pinlabCommit(
      this.key(id), this.lockKey(id), next.generation, owner, encodeRecord(next), this.ttl,
    );
    if (code === CAS.won) return { kind: 'ok' };
    const record = code === CAS.moved && raw ? decodeRecord(raw) : undefined;
    return record ? { kind: 'moved', record } : { kind: 'missing' };
  }

  async releaseRecovery(id: string, owner: string): Promise<void> {
    await this.redis.pinlabRelease(this.lockKey(id), owner);
  }

  /** Writes a record that was kept locally while Redis was away, unless Redis has a newer one. */
  async upsertNewer(record: SessionRecord): Promise<void> {
    await this.redis.pinlabUpsertNewer(this.key(record.clientSessionId), record.generation, encodeRecord(record), this.ttl);
  }

  async delete(id: string): Promise<void> {
    await this.redis.del(this.key(id), this.lockKey(id));
  }

  /** Whether Redis is another process than when last asked (a restart may have lost its data). */
  async restarted(): Promise<boolean> {
    const runId = await this.serverRunId().catch(() => null);
    const restarted = runId === null || runId !== this.runId;
    this.runId = runId;
    return restarted;
  }

  private async serverRunId(): Promise<string | null> {
    return /run_id:(\w+)/.exec(await this.redis.info('server'))?.[1] ?? null;
  }

  size(): undefined {
    return undefined;
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private key(id: string): string {
    return `${this.prefix}session:${id}`;
  }

  private lockKey(id: string): string {
    return `${this.prefix}recovery:${id}`;
  }
}
