import { z } from 'zod';
import { PINNING_KINDS } from '../proxy-core/session/record.ts';
import { KEY_PREFIX_PATTERN, KEY_PREFIX_RULE } from '../proxy-core/store/key-prefix.ts';

// The lab's enums, limits and rules, each written once: the API contract, the pinlab CLI, the
// desktop app's environment, the lab's scale checks and the UI's inputs all take theirs from
// these schemas. What proxy-core defines (pinning kinds, the key prefix rule) comes from there.

/** A port a server listens on inside its container. */
export const portSchema = z.number().int().min(1).max(65535);
/** A port the lab listens on; 0 = any free one. */
export const listenPortSchema = z.number().int().min(0).max(65535);
export const envNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');
/** The MCP endpoint's path on a pod, query string allowed: `/mcp`, `/v1/mcp?tenant=a`. */
export const mcpPathSchema = z.string().regex(/^\/\S*$/, 'must be a path starting with /, such as /mcp');
export const redisUrlSchema = z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL');

/** How the ingress spreads requests over the proxy replicas. */
export const affinitySchema = z.enum(['round-robin', 'client-ip', 'cookie', 'session-hash']);
/** What a new session's record pins: proxy-core's pinning kinds. */
export const pinningSchema = z.enum(PINNING_KINDS);
/** Where the replicas keep session records. */
export const storeSchema = z.enum(['redis', 'memory']);
/** Where pods run: Docker, local processes, or Docker when it is reachable. */
export const runtimeSchema = z.enum(['docker', 'process', 'auto']);
/** Where the demo backend's `cart.*` tools keep carts: each pod's memory (handles leak between pods) or the lab's Redis (the fix). */
export const cartStoreSchema = z.enum(['memory', 'redis']);
/**
 * Which MCP era the simulated clients speak: `legacy` (the v1 SDK client: initialize, sessions),
 * `modern` (the v2 SDK client pinned to 2026-07-28: no initialize, no sessions, Mcp-Method and
 * Mcp-Name headers), or a `mix` of both.
 */
export const clientsEraSchema = z.enum(['legacy', 'modern', 'mix']);
/** With `mix`: the share of the simulated clients that are modern, from 0 to 1. */
export const modernShareSchema = z.number().min(0).max(1);

export type AffinityPolicy = z.output<typeof affinitySchema>;
export type { PinningKind } from '../proxy-core/session/record.ts';
export type StoreKind = z.output<typeof storeSchema>;
export type RuntimeChoice = z.output<typeof runtimeSchema>;
export type CartStoreKind = z.output<typeof cartStoreSchema>;
export type ClientsEra = z.output<typeof clientsEraSchema>;

/** What a user's server is taken to use when not told otherwise. */
export const SERVER_DEFAULTS = { path: '/mcp', portEnv: 'PORT' } as const;

const mcpPath = mcpPathSchema.default(SERVER_DEFAULTS.path);
const env = z.record(envNameSchema, z.string());

/** The server under test: the lab's demo backend, or the user's own as an image or a command. */
export const backendSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('demo'), sessionLost: z.enum(['404', '400', '32001']).optional(),
    /** Absent: memory. `redis` needs pods that reach the lab's Redis on 127.0.0.1: the process runtime. */
    carts: cartStoreSchema.optional(),
    /** The Redis for `carts: 'redis'`; the lab fills in its own (embedded, or `redisUrl`) when absent. */
    cartsRedisUrl: redisUrlSchema.optional(),
  }),
  /** The user's server as a Docker image (docker runtime): it listens on `port` inside the container. */
  z.object({ kind: z.literal('image'), image: z.string().min(1), port: portSchema, path: mcpPath, env: env.optional() }),
  /**
   * The user's server as a command (either runtime). Each pod gets a free port of its own, in
   * the variable `portEnv` and wherever an argument holds `{port}`. `cwd` is where relative
   * paths in the command resolve (where the user ran pinlab).
   */
  z.object({
    kind: z.literal('command'), command: z.string().min(1), args: z.array(z.string()).default([]),
    portEnv: envNameSchema.default(SERVER_DEFAULTS.portEnv), path: mcpPath, env: env.optional(), cwd: z.string().optional(),
  }),
]);

/** What each simulated client calls: a tool of the user's choice, with arguments checked against its input schema. */
export const callSchema = z.object({ tool: z.string().min(1), args: z.record(z.string(), z.unknown()).default({}) });

/** A lab's whole configuration; every field has a default. */
export const labConfigSchema = z.object({
  replicas: z.number().int().min(1).max(16).default(2),
  pods: z.number().int().min(1).max(32).default(3),
  store: storeSchema.default('redis'),
  /** An external Redis instead of the embedded one. */
  redisUrl: redisUrlSchema.optional(),
  pinning: pinningSchema.default('pod'),
  recovery: z.boolean().default(true),
  affinity: affinitySchema.default('round-robin'),
  runtime: runtimeSchema.default('auto'),
  backend: backendSchema.default({ kind: 'demo' }),
  /**
   * What the simulated clients call. Absent: `counter` on the demo backend (its state-loss
   * probe), `ping` and `tools/list` on any other server.
   */
  call: callSchema.optional(),
  /** The era of the simulated clients, unless traffic.start says otherwise (its arguments take these schemas). */
  clientsEra: clientsEraSchema.default('legacy'),
  modernShare: modernShareSchema.default(0.5),
  ingressPort: listenPortSchema.default(7400),
  ingressHost: z.string().default('127.0.0.1'),
  /** How long a pod change takes to reach the replicas' endpoint lists (kube-proxy lag). */
  propagationDelayMs: z.number().int().min(0).max(60_000).default(0),
  /** The controller replaces killed pods (at a new address). */
  replacePods: z.boolean().default(true),
  keyPrefix: z.string().regex(KEY_PREFIX_PATTERN, `must be ${KEY_PREFIX_RULE}`).default('pinlab:'),
});

export type LabConfig = z.output<typeof labConfigSchema>;
export type LabConfigInput = z.input<typeof labConfigSchema>;

/** What a lab runs with when told nothing. */
export const LAB_DEFAULTS: Readonly<LabConfig> = Object.freeze(labConfigSchema.parse({}));

/** The simulated clients' traffic: how many clients, each calling how often. */
export const trafficSchema = z.object({
  clients: z.number().int().min(1).max(1000).default(8),
  /** Tool calls per second, per client. */
  rate: z.number().min(0.1).max(100).default(5),
});

export const TRAFFIC_DEFAULTS: Readonly<z.output<typeof trafficSchema>> = Object.freeze(trafficSchema.parse({}));

/** A number field of these schemas, with or without its default. */
export type NumberField = z.ZodNumber | z.ZodDefault<z.ZodNumber>;

/** A number field's bounds, as its schema sets them: what the UI's inputs and steppers allow. */
export function boundsOf(field: NumberField): { min: number; max: number; whole: boolean } {
  const number = field instanceof z.ZodDefault ? field.unwrap() : field;
  const { minValue: min, maxValue: max, isInt: whole } = number;
  if (min === null || max === null) throw new Error('boundsOf: the field has no bounds');
  return { min, max, whole };
}

/** What a number field allows, in words: "a whole number from 1 to 32". */
export function allowedNumbers(field: NumberField): string {
  const { min, max, whole } = boundsOf(field);
  return `${whole ? 'a whole number' : 'a number'} from ${min} to ${max}`;
}

/** The bounds of the counts and rates a person sets: the UI's inputs, steppers and hints take theirs from here. */
export const LIMITS = {
  replicas: boundsOf(labConfigSchema.shape.replicas),
  pods: boundsOf(labConfigSchema.shape.pods),
  clients: boundsOf(trafficSchema.shape.clients),
  rate: boundsOf(trafficSchema.shape.rate),
  modernShare: boundsOf(modernShareSchema),
} as const;

/**
 * When sessions or requests count as piled up on one pod (app/shared/pile-up.ts): one pod holds
 * at least `share` of them while at least `minPodsUp` pods are up, counted once there are
 * `minSessions` legacy sessions (or `minRequests` modern requests) — fewer are too few to say.
 */
export const PILE_UP = { share: 0.8, minPodsUp: 2, minSessions: 8, minRequests: 40 } as const;

export class LabConfigError extends Error {
  override name = 'LabConfigError';
}

/**
 * Why fields that are each valid cannot go together, or null. A Docker pod cannot reach the
 * lab's Redis, which listens on 127.0.0.1 of this machine only (a container's loopback is its own).
 */
function combinationProblem(config: LabConfig): string | null {
  if (config.backend.kind === 'demo' && config.backend.carts === 'redis' && config.runtime === 'docker' && !config.backend.cartsRedisUrl) {
    return "backend.carts: 'redis' needs the process runtime (or auto, which then picks it): a Docker pod cannot reach the lab's Redis on 127.0.0.1";
  }
  return null;
}

/** Validates a lab configuration; the error names each bad field and what it allows. */
export function parseLabConfig(input: unknown): LabConfig {
  const result = labConfigSchema.safeParse(input ?? {});
  if (result.success) {
    const problem = combinationProblem(result.data);
    if (problem) throw new LabConfigError(`invalid lab config — ${problem}`);
    return result.data;
  }
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.join('.') || 'config';
    return `${field}: ${issue.message}`;
  });
  throw new LabConfigError(`invalid lab config — ${problems.join('; ')}`);
}
