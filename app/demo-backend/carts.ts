import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** One cart, as the `cart.*` tools answer it. */
export interface Cart {
  /** The opaque handle `cart.create` minted: 32 hex characters. */
  handle: string;
  items: string[];
  /** The pod that minted the handle. */
  mintedOn: string;
}

/**
 * Where carts live between calls: MCP 2026-07-28 has no sessions, so state that spans calls
 * sits behind a handle the server mints. Kept in one pod's memory, a handle means nothing to
 * the other pods; kept in a store they share, it works on any of them.
 */
export interface CartStore {
  readonly kind: 'memory' | 'redis';
  create(pod: string): Promise<Cart>;
  /** The cart with `item` added; null when no cart has that handle here. */
  add(handle: string, item: string): Promise<Cart | null>;
  /** Null when no cart has that handle here. */
  get(handle: string): Promise<Cart | null>;
  close(): Promise<void>;
}

/** Items a cart holds at most: the oldest go first. */
export const MAX_ITEMS = 100;
/** Carts one pod keeps in memory at most: the oldest go first. */
const MAX_CARTS = 10_000;
/** How long an untouched cart stays in Redis. */
const REDIS_TTL_S = 3600;

function mint(): string {
  return randomBytes(16).toString('hex');
}

/** Carts in this pod's memory: the default, and the bug — another pod has never heard of them. */
export class MemoryCarts implements CartStore {
  readonly kind = 'memory';
  private readonly carts = new Map<string, Cart>();

  async create(pod: string): Promise<Cart> {
    if (this.carts.size >= MAX_CARTS) this.carts.delete(this.carts.keys().next().value!);
    const cart = { handle: mint(), items: [], mintedOn: pod };
    this.carts.set(cart.handle, cart);
    return { ...cart, items: [] };
  }

  async add(handle: string, item: string): Promise<Cart | null> {
    const cart = this.carts.get(handle);
    if (!cart) return null;
    cart.items.push(item);
    if (cart.items.length > MAX_ITEMS) cart.items.shift();
    return { ...cart, items: [...cart.items] };
  }

  async get(handle: string): Promise<Cart | null> {
    const cart = this.carts.get(handle);
    return cart ? { ...cart, items: [...cart.items] } : null;
  }

  async close(): Promise<void> {
    this.carts.clear();
  }
}

/**
 * Adds ARGV[1] to the cart KEYS[1] if it exists, keeping its first element (the minting pod)
 * and its last ARGV[2] items, and answers the whole list (nil: no such cart). One round trip.
 */
const ADD_ITEM = `
local n = redis.call('RPUSHX', KEYS[1], ARGV[1])
if n == 0 then return false end
local max = tonumber(ARGV[2])
if n > max + 1 then
  local pod = redis.call('LINDEX', KEYS[1], 0)
  redis.call('LTRIM', KEYS[1], n - max, -1)
  redis.call('LPUSH', KEYS[1], pod)
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return redis.call('LRANGE', KEYS[1], 0, -1)
`;

/**
 * Carts in a Redis every pod shares: the fix. One list per cart, `<prefix><handle>`, whose
 * first element is the pod that minted it and the rest its items; `RPUSHX` adds only to a
 * cart that exists, so an unknown handle stays unknown everywhere.
 */
export class RedisCarts implements CartStore {
  readonly kind = 'redis';
  private readonly redis: Redis;
  private readonly prefix: string;

  private constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
  }

  /**
   * Connects, so that a wrong URL is said at start rather than on the first call. ioredis is
   * loaded only here: pods with memory carts start without it.
   */
  static async connect(url: string, prefix = 'pinlab-demo:cart:'): Promise<RedisCarts> {
    const { Redis } = await import('ioredis');
    // Fail calls fast while Redis is away (the lab stops it on purpose) rather than queue them.
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 });
    redis.on('error', () => {}); // each command reports its own failure
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      throw error;
    }
    return new RedisCarts(redis, prefix);
  }

  async create(pod: string): Promise<Cart> {
    const handle = mint();
    await this.redis.multi().rpush(this.key(handle), pod).expire(this.key(handle), REDIS_TTL_S).exec();
    return { handle, items: [], mintedOn: pod };
  }

  async add(handle: string, item: string): Promise<Cart | null> {
    const list = (await this.redis.eval(ADD_ITEM, 1, this.key(handle), item, MAX_ITEMS, REDIS_TTL_S)) as string[] | null;
    if (!list) return null;
    const [mintedOn, ...items] = list;
    return { handle, items, mintedOn: mintedOn! };
  }

  async get(handle: string): Promise<Cart | null> {
    const [mintedOn, ...items] = await this.redis.lrange(this.key(handle), 0, -1);
    return mintedOn === undefined ? null : { handle, items, mintedOn };
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private key(handle: string): string {
    return `${this.prefix}${handle}`;
  }
}
