import { afterEach, describe, expect, it } from 'vitest';
import { startProxy } from './run.ts';
import { DEFAULTS } from './config.ts';
import { StoreRequiredError } from './store/open.ts';
import { rawCall, rawSession } from './test/client.ts';
import { startPods } from './test/pods.ts';
import { startRedis } from './test/redis.ts';
import { until } from './test/lab.ts';
import { startReplica } from './test/replicas.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

const podName = (body: string) => /\\"pod\\":\\"(pod-\d)\\"/.exec(body)?.[1];

/** Redis, two pods, and replicas a and b sharing the Redis store. */
async function twoReplicasOnRedis() {
  const [redis, pods] = await Promise.all([startRedis(), startPods(2)]);
  cleanups.push(() => redis.close(), () => Promise.all(pods.map((p) => p.kill())));
  const backends = pods.map((p) => p.url);
  const a = await startReplica({ backends, store: 'redis', redisUrl: redis.url, replicaId: 'a' });
  const b = await startReplica({ backends, store: 'redis', redisUrl: redis.url, replicaId: 'b' });
  cleanups.push(() => a.close(), () => b.close());
  return { redis, pods, a, b };
}

describe('session store failures', () => {
  it('Redis stopped mid-run: no crash, known sessions keep working, all is as before when it returns', async () => {
    const { redis, a, b } = await twoReplicasOnRedis();

    const known = await rawSession(a.url);
    const first = await rawCall(a.url, known, 'whoami');
    const seenOnlyByA = await rawSession(a.url);

    await redis.stop();

    const during = await rawCall(a.url, known, 'whoami');
    expect(during.status, 'served from the replica\'s last copy').toBe(200);
    expect(podName(during.body)).toBe(podName(first.body));
    const unknownToB = await rawCall(b.url, seenOnlyByA, 'whoami', 5);
    expect(unknownToB.status).toBe(503);
    expect(unknownToB.headers['retry-after'], 'sent nowhere: a load balancer may try another replica').toBe('1');
    expect(JSON.parse(unknownToB.body)).toMatchObject({ id: 5, error: { message: expect.stringMatching(/session store unavailable.*retry/) } });
    const bornDuringOutage = await rawSession(a.url);
    expect((await rawCall(a.url, bornDuringOutage, 'counter')).status).toBe(200);
    expect(a.events.some((e) => e.type === 'store.error')).toBe(true);

    await redis.start();
    await until('replica a to flush its pending writes', () => a.events.some((e) => e.type === 'store.restored'));

    // The session born while Redis was away is now shared: replica b routes it to its pod.
    const viaB = await rawCall(b.url, bornDuringOutage, 'counter');
    expect(viaB.status).toBe(200);
    expect(viaB.body).toContain('\\"count\\":2');
    expect((await rawCall(b.url, seenOnlyByA, 'whoami')).status).toBe(200);
    expect((await rawCall(b.url, known, 'whoami')).status).toBe(200);
    expect(b.events.some((e) => e.type === 'recovery.started')).toBe(false);
  });

  it('Redis away and the pod dead, on a replica without the session\'s initialize: 503 with Retry-After (it ran nowhere), and a replica with it recovers', async () => {
    const { redis, pods, a, b } = await twoReplicasOnRedis();

    const id = await rawSession(a.url); // a keeps the record and the initialize it created
    // b reads the record after the initialize key is gone, so that it has no copy of it (as a
    // replica that restarted moments before Redis went away has none yet).
    await redis.client.del(`pinlab:init:${id}`);
    const first = await rawCall(b.url, id, 'whoami');
    expect(first.status).toBe(200);
    await until('b to have tried to fetch the initialize', async () => (await redis.client.info('commandstats')).includes('cmdstat_get:'));
    await pods.find((p) => p.name === podName(first.body))!.kill();
    await redis.stop();

    const viaB = await rawCall(b.url, id, 'whoami', 7);
    expect(viaB.status).toBe(503);
    expect(viaB.headers['retry-after'], 'it ran nowhere: a load balancer may try another replica').toBe('1');
    expect(JSON.parse(viaB.body)).toMatchObject({ id: 7, error: { message: expect.stringMatching(/lost its pod \(connect-refused\); session store unavailable.*no copy of its initialize.*retry shortly/) } });

    const viaA = await rawCall(a.url, id, 'whoami');
    expect(viaA.status, 'a has the initialize: it re-initializes on the other pod').toBe(200);
    expect(podName(viaA.body)).not.toBe(podName(first.body));
  });

  it('Redis unreachable at start: a loud warning and the memory store, or a refusal with storeRequired', async () => {
    const [pod] = await startPods(1);
    cleanups.push(() => pod!.kill());
    const config = {
      ...DEFAULTS, port: 0, backends: [pod!.url], store: 'redis' as const, redisUrl: 'redis://127.0.0.1:1', replicaId: 'r', storeRequired: false,
    };
    const warnings: string[] = [];
    const running = await startProxy(config, (level, message) => level === 'warn' && warnings.push(message));
    cleanups.push(() => running.close());
    expect(running.proxy.store.kind).toBe('memory');
    expect(warnings.join('\n')).toMatch(/not reachable.*FALLING BACK TO THE MEMORY STORE/);
    const id = await rawSession(running.url);
    expect((await rawCall(running.url, id, 'whoami')).status).toBe(200);

    await expect(startProxy({ ...config, storeRequired: true }, () => {})).rejects.toBeInstanceOf(StoreRequiredError);
  });
});
