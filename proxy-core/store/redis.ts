import { Command } from 'ioredis';
import { decodeRecord, encodeRecord, type SessionRecord } from '../session/record.ts';
import { BatchedRedis } from './redis-client.ts';
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
  /** Commit: the lock is no longer the caller's (it expired; another may hold it). Nothing written. */
  lost: 4,
} as const;

// Compare-and-set scripts: Redis runs each atomically, so a recovery is claimed and
// committed by exactly one replica per generation, and only by the lock's owner.
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
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return {${CAS.lost}} end
if tonumber(ARGV[4]) > 0 then
  redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[4])
  redis.call('EXPIRE', KEYS[3], ARGV[5])
else
  redis.call('SET', KEYS[1], ARGV[3])
end
redis.call('DEL', KEYS[2])
return {${CAS.won}}`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Writes a record kept locally (and its initialize, when known) unless the store moved past
 * it meanwhile, or the session was deleted (its tombstone is there). A record already there
 * still gets the initialize when it has none: the replica that wrote it back first may not
 * have had it, and without it the session cannot be recovered. (A session's initialize is the
 * same for every generation: recovery replays the client's own.)
 */
const UPSERT_NEWER = `
local function put(key, value, ttl)
  if tonumber(ttl) > 0 then redis.call('SET', key, value, 'EX', ttl) else redis.call('SET', key, value) end
end
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local cur = redis.call('GET', KEYS[1])
local newer = not cur or cjson.decode(cur).generation < tonumber(ARGV[1])
if newer then put(KEYS[1], ARGV[2], ARGV[3]) end
if ARGV[4] ~= '' and (newer or redis.call('EXISTS', KEYS[3]) == 0) then put(KEYS[3], ARGV[4], ARGV[5]) end
if newer then return 1 end
return 0`;

type Reply = [number, string?];

interface Scripts {
  pinlabClaim(record: string, lock: string, generation: number, owner: string, lockMs: number): Promise<Reply>;
  pinlabCommit(record: string, lock: string, init: string, generation: number, owner: string, json: string, ttl: number, initTtl: number): Promise<Reply>;
  pinlabRelease(lock: string, owner: string): Promise<number>;
  pinlabUpsertNewer(record: string, tomb: string, init: string, generation: number, json: string, ttl: number, initializeBody: string, initTtl: number): Promise<number>;
}

/** How many sessions a replica remembers refreshing the initialize key of, and the last record of. */
const MAX_REFRESHED = 50_000;
/** Replies as Buffers: a record read as it was last time is recognised without being decoded to a string. */
const AS_BUFFER = {} as const;
/** A deleted session's tombstone lives this long when records have no TTL. */
const TOMBSTONE_SECONDS_WITHOUT_TTL = 86_400;

/**
 * Shared store: every replica reads and writes the same records in Redis. Keys, all under the
 * prefix: `session:<id>` (the record, read by every follow-up), `init:<id>` (the initialize
 * body, read by recovery only), `recovery:<id>` (the recovery lock), `tomb:<id>` (a deleted
 * session, so that no replica writes it back).
 */
export class RedisStore implements SessionStore {
  readonly kind = 'redis';
  readonly redis: BatchedRedis & Scripts;
  private readonly prefix: string;
  private readonly ttl: number;
  /**
   * The initialize key outlives the record by a quarter TTL: a follow-up refreshes the record
   * with its one GETEX, and the initialize key only every quarter TTL (one EXPIRE, not awaited).
   */
  private readonly initTtl: number;
  private readonly tombstoneTtl: number;
  /** When this replica last refreshed a session's initialize key (least recent first). */
  private readonly initRefreshed = new Map<string, number>();
  /** The JSON each session's record was last read as, and what it decoded to (see `decode`). */
  private readonly decoded = new Map<string, { raw: Buffer; record: SessionRecord | undefined }>();
  /** The TTL as GETEX's argument. */
  private readonly ttlArg: string;
  /** The connection dropped since it was last ready. */
  private lost = false;
  /** Which Redis process answered last: a new one after a restart. */
  private runId: string | null = null;
  private startedAt: number | null = null;

  /**
   * When the Redis process this store last found started (epoch ms, to the second; null
   * before it answered): a Redis that started moments ago may be empty while the replicas
   * that hold its sessions are still writing them back.
   */
  get redisStartedAt(): number | null {
    return this.startedAt;
  }

  /** The connection is up: commands go out (while it is not, they fail at once). */
  get ready(): boolean {
    return this.redis.status === 'ready';
  }

  private constructor(options: RedisStoreOptions) {
    this.prefix = options.keyPrefix;
    this.ttl = options.ttlSeconds;
    this.ttlArg = String(this.ttl);
    this.initTtl = this.ttl > 0 ? this.ttl + Math.ceil(this.ttl / 4) + 5 : 0;
    this.tombstoneTtl = this.ttl > 0 ? this.ttl : TOMBSTONE_SECONDS_WITHOUT_TTL;
    // Commands of one loop turn go out in one write, and none waits longer than the timeout
    // (see BatchedRedis: autopipelining and commandTimeout, without their cost per command).
    this.redis = new BatchedRedis(options.url, {
      lazyConnect: true,
      // Fail fast instead of queueing: a request must not hang while Redis is away; the
      // resilient layer above answers from the replica's last copies.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeoutMs: options.commandTimeoutMs ?? 1000,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(100 * times, 1000),
    }) as BatchedRedis & Scripts;
    this.redis.defineCommand('pinlabClaim', { numberOfKeys: 2, lua: CLAIM });
    this.redis.defineCommand('pinlabCommit', { numberOfKeys: 3, lua: COMMIT });
    this.redis.defineCommand('pinlabRelease', { numberOfKeys: 1, lua: RELEASE });
    this.redis.defineCommand('pinlabUpsertNewer', { numberOfKeys: 3, lua: UPSERT_NEWER });
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

  /**
   * A store whose Redis is not reachable yet: it keeps dialling in the background, and
   * `onReady` fires when Redis first answers (as after an outage). Until then every command
   * fails at once, so the resilient layer above serves from its copies.
   */
  static connecting(options: RedisStoreOptions): RedisStore {
    const store = new RedisStore(options);
    store.lost = true;
    store.redis.connect().catch(() => {}); // ioredis retries by its retryStrategy
    return store;
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

  /** The hot path: one GETEX (and, once a quarter TTL per session, an EXPIRE sent along, not awaited). */
  async get(id: string): Promise<SessionRecord | undefined> {
    // A bare Command: what the generated `getex` method adds (argument flattening, pipelining checks) is not needed here.
    const command = this.ttl > 0 ? new Command('getex', [this.key(id), 'EX', this.ttlArg], AS_BUFFER) : new Command('get', [this.key(id)], AS_BUFFER);
    this.redis.sendCommand(command);
    const raw = (await command.promise) as Buffer | null;
    if (raw === null) {
      this.decoded.delete(id);
      return undefined;
    }
    if (this.ttl > 0) this.refreshInitialize(id);
    return this.decode(id, raw);
  }

  async initializeBody(id: string): Promise<string | undefined> {
    return (await this.redis.get(this.initKey(id))) ?? undefined;
  }

  async create(record: SessionRecord, initializeBody: string): Promise<void> {
    const id = record.clientSessionId;
    const json = encodeRecord(record);
    if (this.ttl > 0) {
      this.touchedInitialize(id);
      await Promise.all([this.redis.set(this.initKey(id), initializeBody, 'EX', this.initTtl), this.redis.set(this.key(id), json, 'EX', this.ttl)]);
    } else {
      await Promise.all([this.redis.set(this.initKey(id), initializeBody), this.redis.set(this.key(id), json)]);
    }
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
      this.key(id), this.lockKey(id), this.initKey(id), next.generation, owner, encodeRecord(next), this.ttl, this.initTtl,
    );
    if (code === CAS.won) return { kind: 'ok' };
    if (code === CAS.lost) return { kind: 'lost' };
    const record = code === CAS.moved && raw ? decodeRecord(raw) : undefined;
    return record ? { kind: 'moved', record } : { kind: 'missing' };
  }

  async releaseRecovery(id: string, owner: string): Promise<void> {
    await this.redis.pinlabRelease(this.lockKey(id), owner);
  }

  /**
   * Writes a record kept locally while Redis was away (with its initialize, when this replica
   * has it), unless Redis has a newer generation or a tombstone. True when written.
   */
  async upsertNewer(record: SessionRecord, initializeBody: string | null): Promise<boolean> {
    const id = record.clientSessionId;
    const written = await this.redis.pinlabUpsertNewer(
      this.key(id), this.tombKey(id), this.initKey(id), record.generation, encodeRecord(record), this.ttl, initializeBody ?? '', this.initTtl,
    );
    return written === 1;
  }

  /** Removes the session and leaves a tombstone, so that no replica's local copy brings it back. */
  async delete(id: string): Promise<void> {
    this.initRefreshed.delete(id);
    this.decoded.delete(id);
    await this.redis.multi().del(this.key(id), this.lockKey(id), this.initKey(id)).set(this.tombKey(id), '1', 'EX', this.tombstoneTtl).exec();
  }

  /** Whether Redis is another process than when last asked (a restart may have lost its data). */
  async restarted(): Promise<boolean> {
    const runId = await this.serverRunId().catch(() => null);
    const restarted = runId === null || runId !== this.runId;
    this.runId = runId;
    return restarted;
  }

  private async serverRunId(): Promise<string | null> {
    const info = await this.redis.info('server');
    const uptime = /uptime_in_seconds:(\d+)/.exec(info)?.[1];
    if (uptime !== undefined) this.startedAt = Date.now() - Number(uptime) * 1000;
    return /run_id:(\w+)/.exec(info)?.[1] ?? null;
  }

  size(): undefined {
    return undefined;
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  /** Keeps the initialize key alive as long as its record: once a quarter TTL per session, best effort. */
  private refreshInitialize(id: string): void {
    const last = this.initRefreshed.get(id);
    if (last !== undefined && Date.now() - last < this.ttl * 250) return;
    this.touchedInitialize(id);
    this.redis.expire(this.initKey(id), this.initTtl).catch(() => {
      this.initRefreshed.delete(id); // try again on the next read
    });
  }

  /**
   * The record a session's JSON holds. A session's record changes only on recovery: the JSON
   * read last is kept with its record, and the same JSON again is not parsed again.
   */
  private decode(id: string, raw: Buffer): SessionRecord | undefined {
    const last = this.decoded.get(id);
    if (last?.raw.equals(raw)) return last.record;
    const record = decodeRecord(raw.toString('utf8'));
    // A copy: the reply may be a view into the whole chunk the socket read.
    const kept = Buffer.from(raw);
    if (last) {
      last.raw = kept;
      last.record = record;
    } else {
      this.decoded.set(id, { raw: kept, record });
      if (this.decoded.size > MAX_REFRESHED) {
        const oldest = this.decoded.keys().next().value;
        if (oldest !== undefined) this.decoded.delete(oldest);
      }
    }
    return record;
  }

  private touchedInitialize(id: string): void {
    this.initRefreshed.delete(id);
    this.initRefreshed.set(id, Date.now());
    if (this.initRefreshed.size > MAX_REFRESHED) {
      const oldest = this.initRefreshed.keys().next().value;
      if (oldest !== undefined) this.initRefreshed.delete(oldest);
    }
  }

  private key(id: string): string {
    return `${this.prefix}session:${id}`;
  }

  private initKey(id: string): string {
    return `${this.prefix}init:${id}`;
  }

  private lockKey(id: string): string {
    return `${this.prefix}recovery:${id}`;
  }

  private tombKey(id: string): string {
    return `${this.prefix}tomb:${id}`;
  }
}
