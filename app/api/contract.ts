import { z } from 'zod';
import {
  affinitySchema, callSchema, clientsEraSchema, labConfigSchema, modernShareSchema, pinningSchema, storeSchema, trafficSchema, type LabConfigInput,
} from '../config.ts';
import type { ClientCheckResult } from '../client-check/check.ts';
import type { LabEvent } from '../events.ts';
import type { PodInfo } from '../pods/runtime.ts';
import type { RunningTraffic } from '../traffic/traffic.ts';
import type { ReplicaInfo } from '../replicas/replica-set.ts';
import type { MatrixRow } from '../scenarios/matrix.ts';
import type { Verdict } from '../scenarios/verdict.ts';
import type { ServerUnderTest } from '../server/under-test.ts';
import { CLIENT_FAULT_NAMES } from '../shared/client-faults.ts';
import { SCENARIO_NAMES } from '../shared/scenario-catalog.ts';
import type { LabSnapshot } from '../state/snapshot.ts';

/** What a running lab is, for a client that just connected. */
export interface LabStatus {
  id: string;
  ingressUrl: string;
  runtime: string;
  config: z.output<typeof labConfigSchema>;
  pods: PodInfo[];
  replicas: ReplicaInfo[];
  /** The simulated clients running now (whoever started them); null when none run. */
  traffic: RunningTraffic | null;
  /** The MCP server the pods run: its name and version, how it runs, its tools. */
  server: ServerUnderTest | null;
}

const pod = z.object({ pod: z.string().regex(/^pod-\d+$/, 'a pod name such as pod-1') });
const replica = z.object({ replica: z.string().regex(/^replica-\d+$/, 'a replica name such as replica-1') });
const none = z.undefined().or(z.object({}).strict());

/**
 * Every command the lab takes: its arguments' schema (checked at every boundary: IPC, HTTP,
 * CLI) and its result type. Electron's preload and web mode each carry every command with one
 * generic, typed invoker over this map.
 */
export const commandArgs = {
  // Checked by the lab's own config parser, over the service's defaults (a schema here would fill in its own).
  'lab.start': z.record(z.string(), z.unknown()).optional() as z.ZodType<LabConfigInput | undefined>,
  'lab.stop': none,
  'lab.status': none,
  'snapshot.get': none,
  'pod.kill': pod,
  'pod.restart': pod,
  'pod.pause': pod,
  'pod.unpause': pod,
  'pods.scale': z.object({ count: labConfigSchema.shape.pods.unwrap() }),
  'replica.restart': replica,
  'replica.kill': replica,
  'replica.start': replica,
  'replicas.scale': z.object({ count: labConfigSchema.shape.replicas.unwrap() }),
  'redis.stop': none,
  'redis.start': none,
  'redis.flush': none,
  'switch.affinity': z.object({ policy: affinitySchema }),
  'switch.pinning': z.object({ pinning: pinningSchema }),
  'switch.recovery': z.object({ on: z.boolean() }),
  'switch.store': z.object({ store: storeSchema }),
  // Clients and rate are required here (the UI always says), within the lab's traffic bounds.
  // The era and the modern share are optional: the lab's config says when they are absent.
  'traffic.start': z.object({
    clients: trafficSchema.shape.clients.unwrap(), rate: trafficSchema.shape.rate.unwrap(), call: callSchema.optional(),
    clientsEra: clientsEraSchema.optional(), modernShare: modernShareSchema.optional(),
  }),
  'traffic.stop': none,
  'scenario.run': z.object({ name: z.enum(SCENARIO_NAMES) }),
  'matrix.run': z.object({ scenarios: z.array(z.enum(SCENARIO_NAMES)).min(1).optional(), clients: z.number().int().min(1).max(64).optional() }).optional(),
  'report.export': z.object({ dir: z.string().min(1).optional() }).optional(),
  // The client by a session it opened or by its clientInfo name; the faults in order (default: all).
  'client.check': z.object({
    sessionId: z.string().min(1).max(256).optional(),
    clientName: z.string().min(1).max(200).optional(),
    faults: z.array(z.enum(CLIENT_FAULT_NAMES)).min(1).optional(),
    recoverWithinMs: z.number().int().min(1000).max(120_000).optional(),
  }).strict().refine((a) => a.sessionId !== undefined || a.clientName !== undefined, 'name the client to check: sessionId or clientName'),
} as const;

export interface CommandResults {
  'lab.start': LabStatus;
  'lab.stop': null;
  'lab.status': LabStatus | null;
  'snapshot.get': LabSnapshot;
  'pod.kill': null;
  'pod.restart': null;
  'pod.pause': null;
  'pod.unpause': null;
  'pods.scale': null;
  'replica.restart': null;
  'replica.kill': null;
  'replica.start': null;
  'replicas.scale': null;
  'redis.stop': null;
  'redis.start': null;
  'redis.flush': { removed: number };
  'switch.affinity': null;
  'switch.pinning': null;
  'switch.recovery': null;
  'switch.store': null;
  'traffic.start': null;
  'traffic.stop': null;
  'scenario.run': Verdict & { scenario: string };
  /** Runs on labs of its own, one after another: minutes. Progress arrives as lab.log events. */
  'matrix.run': MatrixRow[];
  'report.export': { markdown: string; json: string };
  /** Seconds to minutes: each fault waits for the client. Each verdict also arrives as a client.checked event. */
  'client.check': ClientCheckResult;
}

export type Command = keyof typeof commandArgs;
export type CommandArgs<C extends Command> = z.input<(typeof commandArgs)[C]>;
export type CommandResult<C extends Command> = CommandResults[C];

/** Every answer is a result or an error a person can act on; never a thrown exception across the boundary. */
export type Reply<C extends Command> = { result: CommandResult<C> } | { error: { message: string } };

/** What the lab pushes to its clients: events in batches, in order. */
export interface LabPush {
  events: LabEvent[];
}
