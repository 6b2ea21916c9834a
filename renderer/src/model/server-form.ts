import type { z } from 'zod';
import { allowedNumbers, envNameSchema, mcpPathSchema, portSchema, redisUrlSchema, SERVER_DEFAULTS, type LabConfigInput } from '../../../app/config.ts';
import { splitCommandLine } from './command-line.ts';

export type BackendInput = NonNullable<LabConfigInput['backend']>;
export type ServerKind = BackendInput['kind'];

/** The start panel's "server under test" fields, as typed (strings: a half-typed port is still shown). */
export interface ServerForm {
  kind: ServerKind;
  image: string;
  /** The port the image's server listens on inside its container. */
  port: string;
  /** The command line, split by `splitCommandLine`. */
  command: string;
  /** The environment variable that tells each pod its port. */
  portEnv: string;
  path: string;
  /** `KEY=value`, one a line. */
  env: string;
  /** An external Redis instead of the embedded one; empty: the embedded one. */
  redisUrl: string;
}

export type ServerField = Exclude<keyof ServerForm, 'kind'>;

export const EMPTY_SERVER_FORM: ServerForm = { kind: 'demo', image: '', port: '', command: '', portEnv: SERVER_DEFAULTS.portEnv, path: SERVER_DEFAULTS.path, env: '', redisUrl: '' };

/** Which fields each kind of server shows, in order. */
export const FIELDS_OF: Record<ServerKind, ServerField[]> = {
  demo: [],
  image: ['image', 'port', 'path', 'env'],
  command: ['command', 'portEnv', 'path', 'env'],
};

export interface CheckedServer {
  /** What `lab.start` gets, when every shown field is valid: no `backend` for the demo (the lab's default wins). */
  config: Pick<LabConfigInput, 'backend' | 'redisUrl'>;
  /** A message per invalid field, to show next to it. */
  errors: Partial<Record<ServerField, string>>;
}

/** Whether the lab's config schema takes `value` for a field (the words for why not are the form's own). */
const fits = (schema: z.ZodType, value: unknown): boolean => schema.safeParse(value).success;

/** Checks the shown fields as the lab's config schema would, in words a person can act on. */
export function checkServerForm(form: ServerForm): CheckedServer {
  const errors: CheckedServer['errors'] = {};
  const config: CheckedServer['config'] = {};

  const redisUrl = form.redisUrl.trim();
  if (redisUrl && !fits(redisUrlSchema, redisUrl)) errors.redisUrl = 'must be a redis:// or rediss:// URL, such as redis://127.0.0.1:6379';
  else if (redisUrl) config.redisUrl = redisUrl;

  if (form.kind === 'demo') return { config, errors };

  const path = form.path.trim();
  if (!fits(mcpPathSchema, path)) errors.path = 'must start with / and hold no spaces, such as /mcp';
  const env = parseEnvLines(form.env);
  if ('error' in env) errors.env = env.error;

  if (form.kind === 'image') {
    const image = form.image.trim();
    if (!image) errors.image = 'required: an image on this machine, such as my/server:1';
    else if (/\s/.test(image)) errors.image = 'an image name holds no spaces';
    const port = Number(form.port.trim());
    if (!form.port.trim()) errors.port = 'required: the port the server listens on inside the container';
    else if (!fits(portSchema, port)) errors.port = `must be ${allowedNumbers(portSchema)}`;
    if (Object.keys(errors).length === 0 && 'env' in env) {
      config.backend = { kind: 'image', image, port, path, ...(Object.keys(env.env).length ? { env: env.env } : {}) };
    }
  } else {
    const split = splitCommandLine(form.command);
    if ('error' in split) errors.command = split.error;
    const portEnv = form.portEnv.trim();
    if (!fits(envNameSchema, portEnv)) errors.portEnv = 'must be an environment variable name, such as PORT';
    if (Object.keys(errors).length === 0 && 'env' in env && 'command' in split) {
      config.backend = { kind: 'command', command: split.command, args: split.args, portEnv, path, ...(Object.keys(env.env).length ? { env: env.env } : {}) };
    }
  }
  return { config, errors };
}

/** `KEY=value` lines into an environment (spaces around name and value dropped); blank lines and `#` comments are skipped. */
export function parseEnvLines(text: string): { env: Record<string, string> } | { error: string } {
  const env: Record<string, string> = {};
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) return { error: `line ${i + 1}: write KEY=value` };
    const name = line.slice(0, eq).trim();
    if (!fits(envNameSchema, name)) return { error: `line ${i + 1}: "${name}" is not a variable name (letters, digits, _; not first a digit)` };
    env[name] = line.slice(eq + 1).trim();
  }
  return { env };
}
