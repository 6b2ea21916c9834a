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
 * Flags the manifests are written for ahead of the CLI (issue 10's were; the CLI has them all
 * now). THE STEP THAT ADDS A FLAG LISTED HERE REMOVES IT: a listed flag that the CLI has makes
 * deploy/kubernetes/manifests.test.ts fail, and the CLI's own parser takes over.
 */
export const PENDING_FLAGS: PendingFlag[] = [];

/** Paths the probes ask that the proxy does not serve yet. Emptied with PENDING_FLAGS. */
export const PENDING_PATHS: string[] = [];

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

/**
 * A duration flag's value in seconds, by the unit its placeholder names; its default (as `--help`
 * shows it) when `value` is undefined. What is written is in that unit, whatever the parser turns
 * it into (pinlab-proxy's `<seconds>` flags parse to milliseconds); a value the parser rejects throws.
 */
export function seconds(flag: Flag, value: string | undefined): number {
  const flags = 'pending' in flag ? flag.pending.flags : flag.option.flags;
  if ('option' in flag && value !== undefined) flag.option.parseArg?.(value, undefined);
  const written = 'pending' in flag
    ? (value ?? flag.pending.default)
    : (value ?? flag.option.defaultValueDescription ?? (flag.option.defaultValue === undefined ? undefined : String(flag.option.defaultValue)));
  const number = Number(written);
  if (written === undefined || written.trim() === '' || !Number.isFinite(number)) throw new Error(`${flags}: no duration in ${JSON.stringify(written)}`);
  const unit = /<([^>]+)>/.exec(flags)?.[1];
  if (unit === 'seconds' || unit === 's') return number;
  if (unit === 'ms' || unit === 'milliseconds') return number / 1000;
  throw new Error(`${flags}: unknown unit "${unit}" (teach deploy/kubernetes/proxy-flags.ts's seconds() about it)`);
}
