import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { RedisMemoryServer } from 'redis-memory-server';

/** A real redis-server for one test file, on its own port; stop/start keep the port. */
export interface TestRedis {
  url: string;
  /** A plain client for looking at what the proxy wrote. */
  client: Redis;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

function systemRedis(): string {
  if (process.env.REDISMS_SYSTEM_BINARY) return process.env.REDISMS_SYSTEM_BINARY;
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('redis-server is not installed (apt-get install redis-server); the tests need a real Redis');
  }
}

export async function startRedis(): Promise<TestRedis> {
  const server = await RedisMemoryServer.create({ binary: { systemBinary: systemRedis() } });
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
