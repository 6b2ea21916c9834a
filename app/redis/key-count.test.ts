import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../proxy-core/test/redis.ts';
import { RedisKeyCounter } from './key-count.ts';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.close();
});

describe('RedisKeyCounter', () => {
  it('reports the session records under the prefix, only when the count changes, and null while Redis is away', async () => {
    const counts: (number | null)[] = [];
    // Keys of other prefixes and other kinds under the prefix are not sessions of this lab.
    await redis.client.set('other:session:x', '1');
    await redis.client.set('lab[1]:lock:y', '1');
    await redis.client.set('lab1:session:z', '1');
    const counter = new RedisKeyCounter({ url: redis.url, prefix: 'lab[1]:', intervalMs: 50, onCount: (keys) => counts.push(keys) });
    counter.start();
    try {
      await expect.poll(() => counts).toEqual([0]);
      await redis.client.set('lab[1]:session:a', '{}');
      await redis.client.set('lab[1]:session:b', '{}');
      await expect.poll(() => counts.at(-1)).toBe(2);
      await redis.client.del('lab[1]:session:a');
      await expect.poll(() => counts.at(-1)).toBe(1);
      // Several intervals with nothing changed add nothing.
      const seen = counts.length;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(counts.length).toBe(seen);

      await redis.stop();
      await expect.poll(() => counts.at(-1), { timeout: 5000 }).toBeNull();
      await redis.start();
      await expect.poll(() => counts.at(-1), { timeout: 5000 }).toBe(0);
      expect(counts).toEqual([0, 2, 1, null, 0]);
    } finally {
      await counter.stop();
    }
    const final = counts.length;
    await redis.client.set('lab[1]:session:c', '{}');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(counts.length, 'a stopped counter reports nothing').toBe(final);
  });

  it('reports null for a Redis that does not answer, and stops while it is still trying', async () => {
    const { freePort } = await import('../net/free-port.ts');
    const counts: (number | null)[] = [];
    const counter = new RedisKeyCounter({ url: `redis://127.0.0.1:${await freePort()}`, prefix: 'p:', intervalMs: 50, onCount: (keys) => counts.push(keys) });
    counter.start();
    await expect.poll(() => counts).toEqual([null]);
    await counter.stop();
    expect(counts).toEqual([null]);
  });
});
