import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

export interface KeyCounterOptions {
  /** The Redis the replicas use: the lab's embedded one or an external one. */
  url: string;
  /** The proxies' key prefix: records are `<prefix>session:<id>`. */
  prefix: string;
  /** Time from the end of one count to the start of the next. */
  intervalMs?: number;
  /** A new count: only when it differs from the last one; null while Redis cannot be counted. */
  onCount: (keys: number | null) => void;
}

/**
 * Counts session records in a Redis with SCAN (never KEYS: an external Redis may be big and
 * shared) on a timer, one count at a time, over a connection of its own. It only reads: an
 * external Redis is never changed by the lab.
 */
export class RedisKeyCounter {
  private readonly options: KeyCounterOptions;
  private readonly redis: Redis;
  private readonly wake = new AbortController();
  private loop: Promise<void> | null = null;
  private last: number | null | undefined = undefined;
  private stopped = false;

  constructor(options: KeyCounterOptions) {
    this.options = options;
    // Fails fast while Redis is away (the count is then null) and reconnects by itself.
    this.redis = new Redis(options.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 500 });
    this.redis.on('error', () => {});
  }

  /** Counts now, then every `intervalMs` after each count ends. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops counting; resolves once a count under way has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake.abort();
    // Ends a connect or a SCAN under way at once instead of waiting it out.
    this.redis.disconnect();
    await this.loop;
  }

  /** Session records under the prefix now. Throws while Redis cannot be reached. */
  async count(): Promise<number> {
    let keys = 0;
    const stream = this.redis.scanStream({ match: `${escapeGlob(this.options.prefix)}session:*`, count: 1000 });
    for await (const batch of stream as AsyncIterable<string[]>) keys += batch.length;
    return keys;
  }

  private async run(): Promise<void> {
    await this.redis.connect().catch(() => {});
    while (!this.stopped) {
      const keys = await this.count().catch(() => null);
      if (this.stopped) break;
      if (keys !== this.last) {
        this.last = keys;
        this.options.onCount(keys);
      }
      await sleep(this.options.intervalMs ?? 2000, undefined, { signal: this.wake.signal, ref: false }).catch(() => {});
    }
  }
}

/** A prefix is literal text, not a pattern: `pinlab[1]:` must not match `pinlab1:`. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
