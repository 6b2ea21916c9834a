import { InvalidArgumentError } from 'commander';

// Every switch of every entry point (pinlab-proxy's flags and PINLAB_* variables, the pinlab
// CLI, the desktop app's environment) reads its value here, so `false` or `0` never means on.
const ON = new Set(['on', 'true', 'yes', '1']);
const OFF = new Set(['off', 'false', 'no', '0']);

/**
 * A switch's value: on/off, true/false, yes/no or 1/0, in any case, spaces around ignored.
 * Anything else throws, naming `name` (a flag or a variable) when given: commander names the
 * flag itself, so its argument parser (`onOffArgument`) leaves it out.
 */
export function parseOnOff(value: string, name?: string): boolean {
  const word = value.trim().toLowerCase();
  if (ON.has(word)) return true;
  if (OFF.has(word)) return false;
  const problem = `expected on or off (or true/false, yes/no, 1/0), got "${value}"`;
  throw new InvalidArgumentError(name ? `${name}: ${problem}` : problem);
}

/** `parseOnOff` as a commander argument parser (commander passes the previous value second). */
export function onOffArgument(value: string): boolean {
  return parseOnOff(value);
}

/** How a switch's value is shown, in help texts and defaults. */
export function onOffWord(on: boolean): 'on' | 'off' {
  return on ? 'on' : 'off';
}
