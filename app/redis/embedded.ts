import { Redis } from 'ioredis';
import { RedisMemoryServer } from 'redis-memory-server';
import { redisServerBinary, type RedisBinaryProgress } from './binary.ts';

export interface RedisStatus {
  up: boolean;
  url: string;
  /** Keys under the lab's prefix; null while Redis is down. */
  keys: number | null;
}

/**
 * The lab's Redis: a real redis-server on a free loopback port, owned by the lab. Stop and
 * start keep the port, so replicas reconnect to the same URL (with the data gone, as a
 * Redis without persistence restarts).
 */
export class EmbeddedRedis {
  readonly url: string;
  private readonly server: RedisMemoryServer;
  private readonly admin: Redis;
  private readonly prefix: string;
  private up = true;

  private constructor(server: RedisMemoryServer, url: string, prefix: string) {
    this.server = server;
    this.url = url;
    this.prefix = prefix;
    this.admin = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 250 });
    this.admin.on('error', () => {});
  }

  /** Rejects with `RedisUnavailableError` when there is no redis-server and none can be fetched. */
  static async start(prefix: string, onProgress?: (progress: RedisBinaryProgress) => void): Promise<EmbeddedRedis> {
    const server = await RedisMemoryServer.create({ binary: { systemBinary: await redisServerBinary(onProgress) } });
    const redis = new EmbeddedRedis(server, `redis://127.0.0.1:${await server.getPort()}`, prefix);
    await redis.admin.connect();
    return redis;
  }

  async stop(): Promise<void> {
    this.up = false;
    await this.server.stop();
  }

  async start(): Promise<void> {
    await this.server.start();
    this.up = true;
  }

  /** Removes every session record: what a Redis restart without persistence does, without the outage. */
  async flush(): Promise<number> {
    let removed = 0;
    for await (const keys of this.admin.scanStream({ match: `${this.prefix}*`, count: 500 }) as AsyncIterable<string[]>) {
      if (keys.length) removed += await this.admin.del(...keys);
    }
    return removed;
  }

  async status(): Promise<RedisStatus> {
    if (!this.up) return { up: false, url: this.url, keys: null };
    try {
      let keys = 0;
      for await (const batch of this.admin.scanStream({ match: `${this.prefix}session:*`, count: 1000 }) as AsyncIterable<string[]>) keys += batch.length;
      return { up: true, url: this.url, keys };
    } catch {
      return { up: false, url: this.url, keys: null };
    }
  }

  /** `redis_version` of the server, or null while it is down. */
  async version(): Promise<string | null> {
    try {
      return /redis_version:(\S+)/.exec(await this.admin.info('server'))?.[1] ?? null;
    } catch {
      return null;
    }
  }

  async close(): Promise<void> {
    this.admin.disconnect();
    if (this.up) await this.server.stop();
    this.up = false;
  }
}
