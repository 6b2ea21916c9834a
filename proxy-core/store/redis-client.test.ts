import { afterEach, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../test/redis.ts';
import { BatchedRedis } from './redis-client.ts';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

async function connected(commandTimeoutMs = 1000): Promise<{ redis: TestRedis; client: BatchedRedis }> {
  const redis = await startRedis();
  cleanups.push(() => redis.close());
  const client = new BatchedRedis(redis.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeoutMs });
  client.on('error', () => {});
  await client.connect();
  cleanups.push(() => client.disconnect());
  return { redis, client };
}

/** Reads Redis has done since it started (each read of one or more commands from a connection). */
async function readsProcessed(redis: TestRedis): Promise<number> {
  return Number(/total_reads_processed:(\d+)/.exec(await redis.client.info('stats'))?.[1]);
}

describe('BatchedRedis', () => {
  it('sends the commands of one loop turn in one write, however many callbacks issued them', async () => {
    const { redis, client } = await connected();
    await client.set('k', 'v');
    const before = await readsProcessed(redis);
    // 20 commands from 20 callbacks, as from 20 requests read in one turn.
    const replies = await Promise.all(Array.from({ length: 20 }, () => new Promise<string | null>((resolve, reject) => {
      setImmediate(() => void client.get('k').then(resolve, reject));
    })));
    expect(replies).toEqual(Array(20).fill('v'));
    // One read for the 20 commands, one for this INFO.
    expect(await readsProcessed(redis) - before).toBe(2);
  });

  it('fails a command Redis does not answer with "Command timed out", no sooner than the bound, and answers again once Redis does', async () => {
    const { redis, client } = await connected(300);
    const pid = Number(/process_id:(\d+)/.exec(await redis.client.info('server'))?.[1]);
    process.kill(pid, 'SIGSTOP'); // a Redis that hangs: the connection stays open, nothing answers
    try {
      const started = performance.now();
      const first = client.get('k').then(() => 'answered', (error: Error) => error.message);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const second = client.get('k').then(() => 'answered', (error: Error) => error.message);
      expect(await first).toBe('Command timed out');
      // Not before its own bound: the second was sent 100 ms after the first.
      expect(await second).toBe('Command timed out');
      expect(performance.now() - started).toBeGreaterThanOrEqual(400 - 1);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await client.set('k', 'back');
    expect(await client.get('k')).toBe('back');
  });
});
