import { labConfigSchema, type LabConfigInput } from '../app/config.ts';
import { parseOnOff } from '../proxy-core/cli/on-off.ts';
import { messageOf } from '../proxy-core/errors.ts';

/** The lab flags the desktop app takes from its environment: the service's defaults, under what the UI sends with `lab.start`. */
const VARIABLES = {
  PINLAB_RUNTIME: { field: 'runtime', kind: 'text' },
  PINLAB_REPLICAS: { field: 'replicas', kind: 'number' },
  PINLAB_PODS: { field: 'pods', kind: 'number' },
  PINLAB_STORE: { field: 'store', kind: 'text' },
  PINLAB_REDIS_URL: { field: 'redisUrl', kind: 'text' },
  PINLAB_PINNING: { field: 'pinning', kind: 'text' },
  PINLAB_RECOVERY: { field: 'recovery', kind: 'on-off' },
  PINLAB_AFFINITY: { field: 'affinity', kind: 'text' },
  PINLAB_INGRESS_PORT: { field: 'ingressPort', kind: 'number' },
} as const satisfies Record<string, { field: keyof LabConfigInput; kind: 'text' | 'number' | 'on-off' }>;

export const LAB_ENV_VARIABLES = Object.keys(VARIABLES);

export class LabEnvError extends Error {
  override name = 'LabEnvError';
}

/**
 * Reads PINLAB_RUNTIME, PINLAB_PODS, … into lab defaults. Unset or empty variables are left
 * to the lab's own defaults; a bad value is an error that names the variable and what it allows.
 */
export function labDefaultsFromEnv(env: Record<string, string | undefined>): LabConfigInput {
  const input: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, { field, kind }] of Object.entries(VARIABLES)) {
    const raw = env[name]?.trim();
    if (!raw) continue;
    if (kind === 'number') {
      if (!/^\d+$/.test(raw)) problems.push(`${name}: expected a whole number, got "${raw}"`);
      else input[field] = Number(raw);
    } else if (kind === 'on-off') {
      try {
        input[field] = parseOnOff(raw, name);
      } catch (error) {
        problems.push(messageOf(error));
      }
    } else {
      input[field] = raw;
    }
  }
  // The lab's own schema says what each field allows; its messages are put under the variable's name.
  const checked = labConfigSchema.partial().safeParse(input);
  if (!checked.success) {
    for (const issue of checked.error.issues) {
      const field = issue.path[0];
      const name = Object.entries(VARIABLES).find(([, v]) => v.field === field)?.[0] ?? String(field);
      problems.push(`${name}: ${issue.message}`);
    }
  }
  if (problems.length > 0) throw new LabEnvError(`invalid lab settings in the environment — ${problems.join('; ')}`);
  return input as LabConfigInput;
}
