import { afterEach, describe, expect, it } from 'vitest';
import { mintSessionId } from '../session/id.ts';
import type { SessionRecord } from '../session/record.ts';
import { startRedis, type TestRedis } from '../test/redis.ts';
import { RedisStore } from './redis.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

async function storeOn(ttlSeconds: number): Promise<{ redis: TestRedis; store: RedisStore }> {
  const redis = await startRedis();
  cleanups.push(() => redis.close());
  const store = await RedisStore.connect({ url: redis.url, keyPrefix: 'pinlab:', ttlSeconds });
  cleanups.push(() => store.close());
  return { redis, store };
}

function record(generation: number, id = mintSessionId()): SessionRecord {
  return {
    clientSessionId: id, backendSessionId: `backend-${generation}`, target: 'http://127.0.0.1:1/mcp', pinning: 'pod', protocolVersion: '2025-06-18',
    createdAt: 1, lastSeenAt: 1, lastReplicaId: 'test', reinitCount: generation, generation,
  };
}

/** Calls of each command Redis ran since it started. */
async function calls(redis: TestRedis): Promise<Map<string, number>> {
  const stats = await redis.client.info('commandstats');
  return new Map([...stats.matchAll(/cmdstat_(\w+):calls=(\d+)/g)].map(([, name, n]) => [name!, Number(n)]));
}

describe('RedisStore reads (the hot path)', () => {
  it('gives the record as Redis holds it now: the same again, a rewritten one (another replica recovered it) anew, junk as missing', async () => {
    const { redis, store } = await storeOn(60);
    const first = record(0);
    const id = first.clientSessionId;
    const key = `pinlab:session:${id}`;
    await store.create(first, '{}');
    expect(await store.get(id)).toEqual(first);
    expect(await store.get(id), 'read again, unchanged').toEqual(first);

    const next = record(1, id);
    await redis.client.set(key, JSON.stringify(next)); // written by another replica
    expect(await store.get(id)).toEqual(next);

    await redis.client.set(key, '{"not":"a record"}');
    expect(await store.get(id)).toBeUndefined();
    await redis.client.set(key, JSON.stringify(first));
    expect(await store.get(id), 'back to what was read first').toEqual(first);
    await redis.client.del(key);
    expect(await store.get(id)).toBeUndefined();
  });

  it('one command per read: GETEX, which refreshes the TTL; GET when records have none', async () => {
    const { redis, store } = await storeOn(60);
    const session = record(0);
    await store.create(session, '{}');
    await redis.client.expire(`pinlab:session:${session.clientSessionId}`, 5);
    const before = await calls(redis);
    for (let i = 0; i < 3; i++) expect(await store.get(session.clientSessionId)).toEqual(session);
    const after = await calls(redis);
    expect((after.get('getex') ?? 0) - (before.get('getex') ?? 0)).toBe(3);
    expect(await redis.client.ttl(`pinlab:session:${session.clientSessionId}`), 'refreshed to the TTL').toBeGreaterThan(5);

    const { redis: plain, store: untimed } = await storeOn(0);
    const kept = record(0);
    await untimed.create(kept, '{}');
    const untimedBefore = await calls(plain);
    expect(await untimed.get(kept.clientSessionId)).toEqual(kept);
    const untimedAfter = await calls(plain);
    expect((untimedAfter.get('get') ?? 0) - (untimedBefore.get('get') ?? 0)).toBe(1);
    expect(untimedAfter.get('getex')).toBeUndefined();
  });
});
