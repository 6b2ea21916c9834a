import type { Option } from 'commander';
import { proxyCommand } from '../../proxy-core/cli/options.ts';

// What the manifests may say to pinlab-proxy, read from its own command definition (the one
// `pinlab-proxy --help` prints), plus what they say before the proxy has it.

/** A flag the manifests already use that pinlab-proxy does not have yet. */
export interface PendingFlag {
  /** As commander will spell it: the placeholder gives the unit (`<seconds>`). */
  flags: string;
  env: string;
  default?: string;
  /** What a valid value looks like, until the CLI's own parser can say. */
  valid: RegExp;
}

/**
 * Issue 10's pod discovery (part 1) and graceful shutdown (part 2), which the manifests are
 * written for. THE STEP THAT ADDS THESE FLAGS EMPTIES THIS LIST: a flag listed here that the CLI
 * has makes deploy/kubernetes/manifests.test.ts fail, and the CLI's own parser takes over.
 */
export const PENDING_FLAGS: PendingFlag[] = [
  { flags: '--backend-dns <name:port/path>', env: 'PINLAB_BACKEND_DNS', valid: /^[a-z0-9.-]+:\d{1,5}(\/\S*)?$/ },
  { flags: '--dns-refresh <seconds>', env: 'PINLAB_DNS_REFRESH', default: '5', valid: /^\d+$/ },
  { flags: '--shutdown-delay <seconds>', env: 'PINLAB_SHUTDOWN_DELAY', default: '5', valid: /^\d+$/ },
  { flags: '--shutdown-timeout <seconds>', env: 'PINLAB_SHUTDOWN_TIMEOUT', default: '30', valid: /^\d+$/ },
];

/** Paths the probes ask that the proxy does not serve yet (`/readyz`: part 2). Emptied with PENDING_FLAGS. */
export const PENDING_PATHS = ['/readyz'];

/** The flag a variable sets: pinlab-proxy's own option, or a pending flag; undefined for neither. */
export type Flag = { option: Option } | { pending: PendingFlag };

export function proxyOptions(): readonly Option[] {
  return proxyCommand().options;
}

export function flagFor(env: string, options = proxyOptions()): Flag | undefined {
  const option = options.find((o) => o.envVar === env);
  if (option) return { option };
  const pending = PENDING_FLAGS.find((p) => p.env === env);
  return pending ? { pending } : undefined;
}

/**
 * Why `value` would not do for the flag, in the CLI's own words where it has the flag; null
 * when it would. A switch without a value (commander's boolean flag) takes any value as on.
 */
export function valueProblem(flag: Flag, value: string): string | null {
  if ('pending' in flag) return flag.pending.valid.test(value) ? null : `expected ${flag.pending.valid} (pending flag ${flag.pending.flags})`;
  const { option } = flag;
  if (!option.required && !option.optional) return `${option.flags} is a switch without a value: any value of ${option.envVar} turns it on`;
  if (option.argChoices && !option.argChoices.includes(value)) return `expected one of ${option.argChoices.join(', ')}`;
  try {
    option.parseArg?.(value, undefined);
  } catch (error) {
    return (error as Error).message;
  }
  return null;
}

/** A duration flag's value in seconds, by the unit its placeholder names; its default when `value` is undefined. */
export function seconds(flag: Flag, value: string | undefined): number {
  const flags = 'pending' in flag ? flag.pending.flags : flag.option.flags;
  const raw: unknown = value ?? ('pending' in flag ? flag.pending.default : flag.option.defaultValue);
  const parsed = 'option' in flag && value !== undefined && flag.option.parseArg ? flag.option.parseArg(value, undefined) : raw;
  const number = Number(parsed);
  if (!Number.isFinite(number)) throw new Error(`${flags}: no duration in ${JSON.stringify(raw)}`);
  const unit = /<([^>]+)>/.exec(flags)?.[1];
  if (unit === 'seconds' || unit === 's') return number;
  if (unit === 'ms' || unit === 'milliseconds') return number / 1000;
  throw new Error(`${flags}: unknown unit "${unit}" (teach deploy/kubernetes/proxy-flags.ts's seconds() about it)`);
}
