import { Redis } from 'ioredis';
import { RedisMemoryServer } from 'redis-memory-server';
import { redisServerBinary } from '../../app/redis/binary.ts';

/** A real redis-server for one test file, on its own port; stop/start keep the port. */
export interface TestRedis {
  url: string;
  /** A plain client for looking at what the proxy wrote. */
  client: Redis;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  const server = await RedisMemoryServer.create({ binary: { systemBinary: await redisServerBinary() } });
  const url = `redis://127.0.0.1:${await server.getPort()}`;
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 200 });
  client.on('error', () => {});
  await client.connect();
  return {
    url,
    client,
    stop: async () => {
      await server.stop();
    },
    start: async () => {
      await server.start();
    },
    close: async () => {
      client.disconnect();
      await server.stop();
    },
  };
}
