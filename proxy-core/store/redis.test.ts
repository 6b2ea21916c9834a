import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { messageOf } from '../errors.ts';
import { mintSessionId } from '../session/id.ts';
import type { SessionRecord } from '../session/record.ts';
import { until } from '../test/lab.ts';
import { startRedis, type TestRedis } from '../test/redis.ts';
import { startForwarder } from '../test/tcp-forwarder.ts';
import { MemoryStore } from './memory.ts';
import { openStore } from './open.ts';
import { RedisStore } from './redis.ts';
import { ResilientStore } from './resilient.ts';
import type { CommitResult, SessionStore } from './store.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

function record(generation = 0, id = mintSessionId()): SessionRecord {
  return {
    clientSessionId: id, backendSessionId: `backend-${generation}`, target: 'http://127.0.0.1:1/mcp', pinning: 'pod', protocolVersion: '2025-06-18',
    createdAt: Date.now(), lastSeenAt: Date.now(), lastReplicaId: 'test', reinitCount: generation, generation,
  };
}

const INIT = '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}';

async function redisUp(): Promise<TestRedis> {
  const redis = await startRedis();
  cleanups.push(() => redis.close());
  return redis;
}

/** A replica's store as `pinlab-proxy` opens it: Redis with its safety net, on `url`; `log` gets its hooks' calls. */
async function resilient(url: string, ttlSeconds: number, log: string[] = []) {
  const ready: { store?: ResilientStore } = {};
  const inner = await RedisStore.connect({ url, keyPrefix: 'pinlab:', ttlSeconds, onReady: () => ready.store?.reconnected() });
  const store = new ResilientStore(inner, {
    onError: (operation, error) => log.push(`error ${operation}: ${messageOf(error)}`),
    onRestored: (flushed) => log.push(`restored ${flushed}`),
  }, ttlSeconds);
  ready.store = store;
  cleanups.push(() => store.close());
  return { store, inner, log };
}

/** Redis, and two replicas on it: `behind` through a forwarder the test can cut, `direct` not; `behind` created `session`. */
async function twoReplicas() {
  const redis = await redisUp();
  const forwarder = await forwarderTo(redis);
  const behind = await resilient(`redis://127.0.0.1:${forwarder.port}`, 60);
  const direct = await resilient(redis.url, 60);
  const session = record();
  await behind.store.create(session, INIT);
  return { redis, forwarder, behind, direct, session };
}

/** A TCP forwarder to `redis` that a test can cut: one replica's own network to it. */
async function forwarderTo(redis: TestRedis) {
  const forwarder = await startForwarder(Number(new URL(redis.url).port));
  cleanups.push(() => forwarder.close());
  return forwarder;
}

/** Redis, a replica's store on it, and a session whose recovery (at generation 0) that store has claimed. */
async function recoveryClaimed() {
  const redis = await redisUp();
  const { store, inner } = await resilient(redis.url, 60);
  const session = record();
  await store.create(session, INIT);
  expect(await store.claimRecovery(session.clientSessionId, 0, 'me')).toEqual({ kind: 'won' });
  return { redis, store, inner, session };
}

/**
 * Commits `next` as Redis restarts empty: the commit reaches the restarted Redis first, before
 * this replica has written anything back.
 */
async function commitAsRedisRestarts(redis: TestRedis, store: ResilientStore, inner: RedisStore, next: SessionRecord): Promise<CommitResult> {
  let commit: CommitResult | undefined;
  inner.redis.once('ready', () => void store.commitRecovery(next, 'me').then((c) => (commit = c)));
  await restartRedis(redis);
  await until('the commit', () => commit !== undefined);
  return commit!;
}

async function restartRedis(redis: TestRedis): Promise<void> {
  await redis.stop();
  await redis.start();
}

describe('the recovery lock', () => {
  it.each([
    ['redis', async (): Promise<SessionStore> => (await resilient((await redisUp()).url, 60)).inner],
    ['memory', async (): Promise<SessionStore> => new MemoryStore(60)],
  ])('%s: a commit checks the lock\'s owner, not only the generation', async (_kind, open) => {
    const store = await open();
    const first = record(0);
    const id = first.clientSessionId;
    await store.create(first, INIT);
    expect(await store.claimRecovery(id, 0, 'a')).toEqual({ kind: 'won' });
    // a's lock expires (a stalled): b claims and re-initializes, then a wakes up and commits.
    if (store instanceof RedisStore) await store.redis.del(`pinlab:recovery:${id}`);
    else await store.releaseRecovery(id, 'a');
    expect(await store.claimRecovery(id, 0, 'b')).toEqual({ kind: 'won' });
    expect(await store.commitRecovery({ ...first, generation: 1, backendSessionId: 'from-a' }, 'a')).toEqual({ kind: 'lost' });
    expect((await store.get(id))?.generation, 'nothing written').toBe(0);
    expect(await store.commitRecovery({ ...first, generation: 1, backendSessionId: 'from-b' }, 'b')).toEqual({ kind: 'ok' });
    expect(await store.get(id)).toMatchObject({ generation: 1, backendSessionId: 'from-b' });
    expect(await store.initializeBody(id), 'the initialize stays').toBe(INIT);
    await store.close();
  });
});

describe('Redis coming back empty', () => {
  it('gets back only what this replica wrote or read within the records\' TTL', async () => {
    const redis = await redisUp();
    const { store, log } = await resilient(redis.url, 2);
    const old = record();
    await store.create(old, INIT);
    await sleep(2200); // old's TTL passes: Redis forgets it, and so must this replica
    const recent = record();
    await store.create(recent, INIT);
    await restartRedis(redis);
    await until('the replica to catch up', () => log.includes('restored 1'));
    expect(await redis.client.exists(`pinlab:session:${old.clientSessionId}`)).toBe(0);
    expect(JSON.parse((await redis.client.get(`pinlab:session:${recent.clientSessionId}`))!)).toEqual(recent);
    expect(await redis.client.get(`pinlab:init:${recent.clientSessionId}`)).toBe(INIT);
  });

  it('a record written back by a replica without its initialize gets it from the next replica that has it', async () => {
    const redis = await redisUp();
    const { inner } = await resilient(redis.url, 60);
    const session = record();
    expect(await inner.upsertNewer(session, null), 'a replica that never read the initialize writes the record back').toBe(true);
    expect(await redis.client.get(`pinlab:init:${session.clientSessionId}`)).toBeNull();
    expect(await inner.upsertNewer(session, INIT), 'the record is there already').toBe(false);
    expect(await redis.client.get(`pinlab:init:${session.clientSessionId}`), 'but its initialize was missing').toBe(INIT);
    expect(await redis.client.ttl(`pinlab:init:${session.clientSessionId}`)).toBeGreaterThan(60);
    expect(await inner.initializeBody(session.clientSessionId)).toBe(INIT);
  });

  it('a session deleted on another replica meanwhile does not come back (its tombstone is kept)', async () => {
    const { redis, forwarder, behind: a, direct: b, session } = await twoReplicas();
    expect(await b.store.get(session.clientSessionId)).toEqual(session);

    forwarder.cut(); // a loses Redis; b does not
    await restartRedis(redis);
    await until('b to write its copy back', () => b.log.some((l) => l.startsWith('restored')));
    await b.store.delete(session.clientSessionId);
    forwarder.restore();
    await until('a to catch up', () => a.log.some((l) => l.startsWith('restored')));

    expect(await redis.client.exists(`pinlab:session:${session.clientSessionId}`), 'not brought back by a').toBe(0);
    expect(await a.store.get(session.clientSessionId)).toBeUndefined();
  });

  it('one failed write does not stop the others; it is kept to try again', async () => {
    const redis = await redisUp();
    const forwarder = await forwarderTo(redis);
    const { store, log } = await resilient(`redis://127.0.0.1:${forwarder.port}`, 60);
    const [broken, ...rest] = [record(), record(), record()] as [SessionRecord, SessionRecord, SessionRecord];
    for (const r of [broken, ...rest]) await store.create(r, INIT);

    forwarder.cut();
    await restartRedis(redis);
    await redis.client.hset(`pinlab:session:${broken.clientSessionId}`, 'not', 'a record'); // its write-back fails (WRONGTYPE)
    forwarder.restore();
    await until('the replica to catch up', () => log.some((l) => l.startsWith('restored')));

    for (const r of rest) expect(await redis.client.exists(`pinlab:session:${r.clientSessionId}`)).toBe(1);
    expect(log).toContainEqual(expect.stringMatching(/^error flush: 1 of 3 write\(s\) failed and are kept to try again: .*WRONGTYPE/));
    expect(log).toContain('restored 2');
  });

  it('reads do not wait for a flush of thousands of records: a read that misses one being written back writes it first', async () => {
    const redis = await redisUp();
    const order: string[] = [];
    const { store, inner } = await resilient(redis.url, 600, order);
    const records = Array.from({ length: 20_000 }, () => record());
    for (let i = 0; i < records.length; i += 1000) await Promise.all(records.slice(i, i + 1000).map((r) => store.create(r, INIT)));
    const last = records[records.length - 1]!;
    let read: SessionRecord | undefined;
    inner.redis.once('ready', () => {
      // The first read once Redis is back: before, it waited for all 20,000 writes.
      void store.get(last.clientSessionId).then((r) => {
        read = r;
        order.push('read');
      });
    });
    await restartRedis(redis);
    await until('the replica to catch up', () => order.some((l) => l.startsWith('restored')), 30_000);
    expect(read).toEqual(last);
    expect(order.filter((l) => l === 'read' || l.startsWith('restored'))).toEqual(['read', `restored ${records.length}`]);
  });

  it('a replica that only read a session gives back its initialize too: the session can still be recovered', async () => {
    const redis = await redisUp();
    const a = await resilient(redis.url, 60);
    const session = record();
    await a.store.create(session, INIT);
    await a.store.close(); // the replica that created it restarts: its memory is gone
    const b = await resilient(redis.url, 60);
    expect(await b.store.get(session.clientSessionId)).toEqual(session);
    await until('b to read the initialize once, off the request\'s path', async () => (await commandCalls(redis, 'get')) >= 1);

    await restartRedis(redis);
    await until('b to write its copy back', () => b.log.some((l) => l.startsWith('restored')));
    expect(await redis.client.get(`pinlab:init:${session.clientSessionId}`)).toBe(INIT);
    expect(await b.store.initializeBody(session.clientSessionId)).toBe(INIT);
  });

  it('a miss just after Redis came back empty waits for the replica that holds the session to write it back', async () => {
    const { redis, forwarder, direct: other, session } = await twoReplicas();

    forwarder.cut(); // the holder finds Redis back later than the other replica
    await restartRedis(redis);
    await until('the other replica to find Redis back', () => other.log.some((l) => l.startsWith('restored')));
    const read = other.store.get(session.clientSessionId);
    const claimed = other.store.claimRecovery(session.clientSessionId, 0, 'other');
    forwarder.restore();
    expect(await read, 'not "session not found"').toEqual(session);
    expect(await claimed).toEqual({ kind: 'won' });
  });

  it('a replica that first connected after Redis came back empty (it saw no restart) waits for the write-back too', async () => {
    const redis = await redisUp();
    const forwarder = await forwarderTo(redis);
    const holder = await resilient(`redis://127.0.0.1:${forwarder.port}`, 60);
    const session = record();
    await holder.store.create(session, INIT);

    forwarder.cut();
    await restartRedis(redis);
    const started = await resilient(redis.url, 60); // a replica (re)started just now
    const read = started.store.get(session.clientSessionId);
    forwarder.restore();
    expect(await read, 'not "session not found"').toEqual(session);
  });

  it('a recovery whose commit finds the record gone with a Redis that came back empty writes the new generation back', async () => {
    const { redis, store, inner, session } = await recoveryClaimed();

    const next = { ...session, generation: 1, backendSessionId: 'backend-1' };
    expect(await commitAsRedisRestarts(redis, store, inner, next)).toEqual({ kind: 'ok' });
    expect(JSON.parse((await redis.client.get(`pinlab:session:${session.clientSessionId}`))!)).toEqual(next);
    expect(await redis.client.get(`pinlab:init:${session.clientSessionId}`)).toBe(INIT);
  });

  it('a recovery whose commit finds the record gone, while another replica writes a newer generation back, moves to that one, not "gone"', async () => {
    const { redis, store, inner, session } = await recoveryClaimed();

    const mine = { ...session, generation: 1, backendSessionId: 'backend-1' };
    const theirs = { ...session, generation: 2, backendSessionId: 'backend-2' };
    // The other replica's write-back lands between this one's commit (which finds Redis empty)
    // and its own write-back: forced here by running it just before that write-back.
    const upsertNewer = inner.upsertNewer.bind(inner);
    inner.upsertNewer = async (...args) => {
      const other = await RedisStore.connect({ url: redis.url, keyPrefix: 'pinlab:', ttlSeconds: 60 }); // connected to the Redis that came back
      await other.upsertNewer(theirs, INIT);
      await other.close();
      return upsertNewer(...args);
    };
    expect(await commitAsRedisRestarts(redis, store, inner, mine)).toEqual({ kind: 'moved', record: theirs });
    expect(JSON.parse((await redis.client.get(`pinlab:session:${session.clientSessionId}`))!)).toEqual(theirs);
  });

  it('a recovery claimed on a session this replica is about to write back finds it (written first), not "gone"', async () => {
    const redis = await redisUp();
    const { store, inner, log } = await resilient(redis.url, 600);
    const records = Array.from({ length: 5000 }, () => record());
    for (let i = 0; i < records.length; i += 1000) await Promise.all(records.slice(i, i + 1000).map((r) => store.create(r, INIT)));
    const last = records[records.length - 1]!;
    let claim: unknown;
    inner.redis.once('ready', () => void store.claimRecovery(last.clientSessionId, 0, 'me').then((c) => (claim = c)));
    await restartRedis(redis);
    await until('the replica to catch up', () => log.some((l) => l.startsWith('restored')) && claim !== undefined, 30_000);
    expect(claim).toEqual({ kind: 'won' });
  });
});

describe('a replica started while Redis is away', () => {
  it('with awaitRedis it serves its sessions from its copies and writes them to Redis once it answers, instead of a private memory store', async () => {
    const redis = await redisUp();
    await redis.stop();
    const log: string[] = [];
    const opened = await openStore({ store: 'redis', redisUrl: redis.url, keyPrefix: 'pinlab:', ttlSeconds: 60, required: false, awaitRedis: true }, {
      onError: () => {},
      onRestored: (flushed) => log.push(`restored ${flushed}`),
    });
    cleanups.push(() => opened.store.close());
    expect(opened.store).toBeInstanceOf(ResilientStore);
    expect(opened.waitingFor).toMatch(/^Redis at redis:\/\/127\.0\.0\.1:\d+\/? is not reachable/);
    const session = record();
    await opened.store.create(session, INIT);
    expect(await opened.store.get(session.clientSessionId)).toEqual(session);

    await redis.start();
    await until('the replica to find Redis', () => log.some((l) => l.startsWith('restored')));
    expect(JSON.parse((await redis.client.get(`pinlab:session:${session.clientSessionId}`))!)).toEqual(session);
    expect(await redis.client.get(`pinlab:init:${session.clientSessionId}`)).toBe(INIT);
  });

  it('without it, the memory store stands in (and says why)', async () => {
    const redis = await redisUp();
    await redis.stop();
    const opened = await openStore({ store: 'redis', redisUrl: redis.url, keyPrefix: 'pinlab:', ttlSeconds: 60, required: false }, { onError: () => {}, onRestored: () => {} });
    expect(opened.store).toBeInstanceOf(MemoryStore);
    expect(opened.fallback?.reason).toMatch(/is not reachable/);
  });
});

describe('a replica that stops', () => {
  it('just as Redis comes back, first gives it the session created while Redis was away', async () => {
    const redis = await redisUp();
    const { store, log } = await resilient(redis.url, 60);
    await redis.stop();
    const session = record();
    await store.create(session, INIT); // kept by this replica alone
    await redis.start();
    await store.close(); // before its connection is back: the rollout does not wait for Redis
    expect(JSON.parse((await redis.client.get(`pinlab:session:${session.clientSessionId}`))!)).toEqual(session);
    expect(await redis.client.get(`pinlab:init:${session.clientSessionId}`)).toBe(INIT);
    expect(log.filter((line) => line.startsWith('error close'))).toEqual([]);
  });

  it('while Redis stays away, says how many writes it could not hand over', async () => {
    const redis = await redisUp();
    const { store, log } = await resilient(redis.url, 60);
    await redis.stop();
    await store.create(record(), INIT);
    await store.create(record(), INIT);
    await store.close();
    expect(log.filter((line) => line.startsWith('error close'))).toEqual([
      'error close: 2 write(s) kept while Redis was away did not reach it before this replica stopped: sessions no other replica served are lost',
    ]);
  });
});

/** How many times Redis ran `command` since it started. */
async function commandCalls(redis: TestRedis, command: string): Promise<number> {
  const stats = await redis.client.info('commandstats');
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
}
