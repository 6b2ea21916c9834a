import type { ProxyEvent } from '../proxy-core/index.ts';
import type { PodState } from './pods/runtime.ts';
import type { ReplicaState } from './replicas/replica-set.ts';
import type { ServerUnderTest } from './server/under-test.ts';
import type { CallRecord } from './traffic/traffic.ts';

/** Everything that happens in a lab, as one stream: the UI and reports are built from it alone. */
export type LabEvent =
  | ProxyEvent
  | { type: 'pod.changed'; at: number; pod: string; state: PodState; address: string | null; reason: string }
  | { type: 'replica.changed'; at: number; replica: string; state: ReplicaState; reason: string }
  | { type: 'redis.changed'; at: number; up: boolean; reason: string }
  /** Session records in Redis now (a throttled SCAN); null while it cannot be counted. */
  | { type: 'redis.keys'; at: number; keys: number | null }
  | { type: 'service.endpoints'; at: number; endpoints: string[] }
  /** What the pods run, as one pod answered at lab start (or why it could not be read). */
  | { type: 'server.identified'; at: number; server: ServerUnderTest }
  | ({ type: 'traffic.call' } & CallRecord)
  | { type: 'image.progress'; at: number; stage: string; message: string }
  | { type: 'lab.log'; at: number; level: 'info' | 'warn' | 'error'; message: string };
