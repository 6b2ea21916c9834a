import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, connectClient } from './test/client.ts';
import { startPods, type TestPod } from './test/pods.ts';
import { startRedis, type TestRedis } from './test/redis.ts';
import { startReplica } from './test/replicas.ts';

type WhoAmI = { pod: string; session: string };

describe('pinning: a session stays on the pod that served initialize', () => {
  let redis: TestRedis;
  let pods: TestPod[];
  let a: Awaited<ReturnType<typeof startReplica>>;
  let b: Awaited<ReturnType<typeof startReplica>>;

  beforeAll(async () => {
    [redis, pods] = await Promise.all([startRedis(), startPods(3)]);
    const backends = pods.map((p) => p.url);
    a = await startReplica({ backends, store: 'redis', redisUrl: redis.url, replicaId: 'replica-a' });
    b = await startReplica({ backends, store: 'redis', redisUrl: redis.url, replicaId: 'replica-b' });
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await Promise.all([...(pods ?? []).map((p) => p.kill()), redis?.close()]);
  });

  it('records the pod the connection reached, and follow-ups through another replica reach it', async () => {
    const { client, transport } = await connectClient(a.url);
    const clientSessionId = transport.sessionId!;
    const created = a.events.find((e) => e.type === 'session.created');
    expect(created).toMatchObject({ type: 'session.created', sessionId: clientSessionId, replicaId: 'replica-a' });
    const pinned = pods.find((p) => p.address === (created as { pod: string }).pod)!;
    expect(pinned, 'the recorded pod is one of the pods').toBeDefined();

    const stored = JSON.parse((await redis.client.get(`pinlab:session:${clientSessionId}`))!);
    expect(stored).toMatchObject({ target: pinned.url, pinning: 'pod', generation: 0, lastReplicaId: 'replica-a' });
    expect(stored.backendSessionId).not.toBe(clientSessionId);

    const first = await call<WhoAmI>(client, 'whoami');
    expect(first.pod).toBe(pinned.name);
    expect(first.session).toBe(stored.backendSessionId);

    // The same session, continued by a second client through replica B.
    const { client: viaB } = await connectClient(b.url, clientSessionId);
    for (let i = 0; i < 5; i++) {
      expect(await call<WhoAmI>(viaB, 'whoami')).toEqual(first);
    }
    expect(await call<{ count: number }>(client, 'counter')).toMatchObject({ count: 1 });
    expect(await call<{ count: number }>(viaB, 'counter')).toMatchObject({ count: 2 });

    const stats = await Promise.all(pods.map((p) => p.stats()));
    expect(stats.reduce((n, s) => n + s.initializes, 0), 'the backends saw one session').toBe(1);
    expect(stats.find((s) => s.pod === pinned.name)?.sessions).toBe(1);
    expect(b.events.some((e) => e.type === 'recovery.started')).toBe(false);
    await client.close();
  });

  it('never shows the client a backend session id', async () => {
    const { client, transport } = await connectClient(b.url);
    const { session } = await call<WhoAmI>(client, 'whoami');
    expect(transport.sessionId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(transport.sessionId).not.toBe(session);
    await client.close();
  });
});
