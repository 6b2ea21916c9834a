import { setTimeout as sleep } from 'node:timers/promises';
import type { ProxyEvent } from '../events.ts';
import { startPods, type PodOptions, type TestPod } from './pods.ts';
import { startRedis, type TestRedis } from './redis.ts';
import { startReplica, type ReplicaConfig } from './replicas.ts';

export type Replica = Awaited<ReturnType<typeof startReplica>>;

export interface TestLab {
  redis: TestRedis;
  pods: TestPod[];
  replicas: Replica[];
  /** Stops everything it started (paused pods are resumed first, so that they can exit). */
  close(): Promise<void>;
}

/** Real Redis, `podCount` demo pods in child processes, `replicaCount` replicas in this process sharing Redis. */
export async function startLab(
  podCount: number, replicaCount: number, options: { pods?: PodOptions; replica?: Omit<Partial<ReplicaConfig>, 'backends'> } = {},
): Promise<TestLab> {
  const [redis, pods] = await Promise.all([startRedis(), startPods(podCount, options.pods)]);
  const replicas: Replica[] = [];
  const lab: TestLab = {
    redis, pods, replicas,
    async close() {
      await Promise.all(replicas.map((r) => r.close()));
      for (const pod of pods) pod.resume();
      await Promise.all(pods.map((p) => p.kill()));
      await redis.close();
    },
  };
  try {
    for (let i = 0; i < replicaCount; i++) {
      replicas.push(await startReplica({
        store: 'redis', redisUrl: redis.url, replicaId: `replica-${i + 1}`, ...options.replica, backends: pods.map((p) => p.url),
      }));
    }
  } catch (error) {
    await lab.close();
    throw error;
  }
  return lab;
}

/** The pod a session was created on, as the replica's `session.created` event says. */
export function podOf(pods: TestPod[], replica: Replica, sessionId: string): TestPod {
  const created = ofType(replica.events, 'session.created').find((e) => e.sessionId === sessionId);
  const pod = pods.find((p) => p.address === created?.pod);
  if (!pod) throw new Error(`no session.created event for ${sessionId} on a known pod`);
  return pod;
}

export function ofType<T extends ProxyEvent['type']>(events: ProxyEvent[], type: T): Extract<ProxyEvent, { type: T }>[] {
  return events.filter((e): e is Extract<ProxyEvent, { type: T }> => e.type === type);
}

/** Waits until `check` holds (polling), or fails naming `what`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
