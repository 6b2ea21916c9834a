import type { ProxyEvent } from '../proxy-core/index.ts';
import type { HandleLeak } from './handles/leak-detector.ts';
import type { ClientSeen } from './ingress/ingress.ts';
import type { PodState } from './pods/runtime.ts';
import type { ReplicaState } from './replicas/replica-set.ts';
import type { ServerUnderTest } from './server/under-test.ts';
import type { ClientFaultVerdict } from './shared/client-faults.ts';
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
  /** A handle minted on one pod was passed to a call that landed on another and failed (app/handles/leak-detector.ts). */
  | ({ type: 'handle.leak' } & HandleLeak)
  /** A client named itself at the ingress (its `clientInfo`): the lab's own, or one from outside. */
  | ({ type: 'client.seen' } & ClientSeen)
  /** A client check's verdict on one fault aimed at one client. */
  | ({ type: 'client.checked'; at: number } & ClientFaultVerdict)
  | { type: 'image.progress'; at: number; stage: string; message: string }
  | { type: 'lab.log'; at: number; level: 'info' | 'warn' | 'error'; message: string };
