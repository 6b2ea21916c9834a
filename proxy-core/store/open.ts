import { MemoryStore } from './memory.ts';
import { RedisStore } from './redis.ts';
import { ResilientStore, type ResilientStoreHooks } from './resilient.ts';
import type { SessionStore } from './store.ts';

export interface StoreConfig {
  store: 'memory' | 'redis';
  redisUrl: string;
  keyPrefix: string;
  ttlSeconds: number;
  /** Refuse to start without Redis instead of falling back to the memory store. */
  required: boolean;
  /**
   * Redis unreachable at start: start on it anyway, serving sessions from this replica's own
   * copies and writing them to Redis once it answers (as during an outage), rather than on a
   * private memory store that would split the sessions from the other replicas for good.
   */
  awaitRedis?: boolean;
}

export type OpenedStore =
  /** `waitingFor`: Redis was not reachable at start, and the store waits for it (`awaitRedis`): why. */
  | { store: SessionStore; fallback: null; waitingFor?: string }
  /** Redis was asked for but could not be reached: the memory store stands in. */
  | { store: SessionStore; fallback: { reason: string }; waitingFor?: undefined };

export class StoreRequiredError extends Error {
  override name = 'StoreRequiredError';
}

/**
 * Opens the configured store. A Redis that cannot be reached at start gives the memory
 * store and a reason to warn about, or `StoreRequiredError` when `required`.
 */
export async function openStore(config: StoreConfig, hooks: ResilientStoreHooks): Promise<OpenedStore> {
  if (config.store === 'memory') return { store: new MemoryStore(config.ttlSeconds), fallback: null };
  let resilient: ResilientStore | undefined;
  const options = {
    url: config.redisUrl,
    keyPrefix: config.keyPrefix,
    ttlSeconds: config.ttlSeconds,
    onReady: () => resilient?.reconnected(),
  };
  try {
    resilient = new ResilientStore(await RedisStore.connect(options), hooks, config.ttlSeconds);
    return { store: resilient, fallback: null };
  } catch (error) {
    const reason = `Redis at ${redactUrl(config.redisUrl)} is not reachable (${error instanceof Error ? error.message : String(error)})`;
    if (config.required) throw new StoreRequiredError(reason);
    if (config.awaitRedis) {
      resilient = new ResilientStore(RedisStore.connecting(options), hooks, config.ttlSeconds);
      return { store: resilient, fallback: null, waitingFor: reason };
    }
    return { store: new MemoryStore(config.ttlSeconds), fallback: { reason } };
  }
}

/** A Redis URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
