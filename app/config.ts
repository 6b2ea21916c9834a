import { z } from 'zod';

const backend = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('demo'), sessionLost: z.enum(['404', '400', '32001']).optional() }),
  z.object({
    kind: z.literal('image'), image: z.string().min(1), port: z.number().int().min(1).max(65535),
    path: z.string().startsWith('/'), env: z.record(z.string(), z.string()).optional(),
  }),
  z.object({
    kind: z.literal('command'), command: z.string().min(1), args: z.array(z.string()), port: z.number().int().min(1).max(65535).optional(),
    path: z.string().startsWith('/'), env: z.record(z.string(), z.string()).optional(),
  }),
]);

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
  backend: backend.default({ kind: 'demo' }),
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
