import { z } from 'zod';

const port = z.number().int().min(1).max(65535);
/** The MCP endpoint's path on a pod, query string allowed: `/mcp`, `/v1/mcp?tenant=a`. */
const mcpPath = z.string().regex(/^\/\S*$/, 'must be a path starting with /, such as /mcp').default('/mcp');
const env = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'), z.string());

/** The server under test: the lab's demo backend, or the user's own as an image or a command. */
export const backendSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('demo'), sessionLost: z.enum(['404', '400', '32001']).optional() }),
  /** The user's server as a Docker image (docker runtime): it listens on `port` inside the container. */
  z.object({ kind: z.literal('image'), image: z.string().min(1), port, path: mcpPath, env: env.optional() }),
  /**
   * The user's server as a command (either runtime). Each pod gets a free port of its own, in
   * the variable `portEnv` and wherever an argument holds `{port}`. `cwd` is where relative
   * paths in the command resolve (where the user ran pinlab).
   */
  z.object({
    kind: z.literal('command'), command: z.string().min(1), args: z.array(z.string()).default([]),
    portEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').default('PORT'),
    path: mcpPath, env: env.optional(), cwd: z.string().optional(),
  }),
]);

/** What each simulated client calls: a tool of the user's choice, with arguments checked against its input schema. */
export const callSchema = z.object({ tool: z.string().min(1), args: z.record(z.string(), z.unknown()).default({}) });

/** A lab's whole configuration; every field has a default. */
export const labConfigSchema = z.object({
  replicas: z.number().int().min(1).max(16).default(2),
  pods: z.number().int().min(1).max(32).default(3),
  store: z.enum(['redis', 'memory']).default('redis'),
  /** An external Redis instead of the embedded one. */
  redisUrl: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  pinning: z.enum(['pod', 'service']).default('pod'),
  recovery: z.boolean().default(true),
  affinity: z.enum(['round-robin', 'client-ip', 'cookie', 'session-hash']).default('round-robin'),
  runtime: z.enum(['docker', 'process', 'auto']).default('auto'),
  backend: backendSchema.default({ kind: 'demo' }),
  /**
   * What the simulated clients call. Absent: `counter` on the demo backend (its state-loss
   * probe), `ping` and `tools/list` on any other server.
   */
  call: callSchema.optional(),
  ingressPort: z.number().int().min(0).max(65535).default(7400),
  ingressHost: z.string().default('127.0.0.1'),
  /** How long a pod change takes to reach the replicas' endpoint lists (kube-proxy lag). */
  propagationDelayMs: z.number().int().min(0).max(60_000).default(0),
  /** The controller replaces killed pods (at a new address). */
  replacePods: z.boolean().default(true),
  keyPrefix: z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/).default('pinlab:'),
});

export type LabConfig = z.output<typeof labConfigSchema>;
export type LabConfigInput = z.input<typeof labConfigSchema>;

export class LabConfigError extends Error {
  override name = 'LabConfigError';
}

/** Validates a lab configuration; the error names each bad field and what it allows. */
export function parseLabConfig(input: unknown): LabConfig {
  const result = labConfigSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.join('.') || 'config';
    return `${field}: ${issue.message}`;
  });
  throw new LabConfigError(`invalid lab config — ${problems.join('; ')}`);
}
