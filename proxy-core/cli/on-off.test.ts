import { InvalidArgumentError } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { parseOnOff } from './on-off.ts';
import { proxyCommand, toConfig } from './options.ts';

describe('a switch\'s value', () => {
  it.each(['on', 'true', 'yes', '1', 'ON', 'True', ' Yes '])('%j is on', (value) => {
    expect(parseOnOff(value)).toBe(true);
  });

  it.each(['off', 'false', 'no', '0', 'OFF', 'False', ' no '])('%j is off', (value) => {
    expect(parseOnOff(value)).toBe(false);
  });

  it('anything else is refused, naming the flag or variable when given and every spelling it takes', () => {
    expect(() => parseOnOff('maybe', 'PINLAB_RECOVERY')).toThrow('PINLAB_RECOVERY: expected on or off (or true/false, yes/no, 1/0), got "maybe"');
    expect(() => parseOnOff('')).toThrow('expected on or off (or true/false, yes/no, 1/0), got ""');
    // Commander puts the flag's name in front of an InvalidArgumentError's message.
    expect(() => parseOnOff('2')).toThrow(InvalidArgumentError);
  });
});

describe('pinlab-proxy\'s switches', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });
  const parse = (args: string[], env: Record<string, string> = {}) => {
    Object.assign(process.env, env);
    const command = proxyCommand().exitOverride().configureOutput({ writeErr: () => {} });
    command.parse(['node', 'pinlab-proxy', '--backend', 'http://127.0.0.1:1/mcp', ...args]);
    return toConfig(command.opts());
  };

  it('PINLAB_STORE_REQUIRED=false or 0 means off, and true, 1 or yes means on', () => {
    expect(parse([]).storeRequired).toBe(false);
    for (const value of ['false', '0', 'off', 'NO']) expect(parse([], { PINLAB_STORE_REQUIRED: value }).storeRequired, value).toBe(false);
    for (const value of ['true', '1', 'on', 'Yes']) expect(parse([], { PINLAB_STORE_REQUIRED: value }).storeRequired, value).toBe(true);
  });

  it('--store-required alone is on; with a value it reads it', () => {
    expect(parse(['--store-required']).storeRequired).toBe(true);
    expect(parse(['--store-required', '--log-format', 'json']).storeRequired).toBe(true);
    expect(parse(['--store-required', 'off']).storeRequired).toBe(false);
    expect(parse(['--store-required=no'], { PINLAB_STORE_REQUIRED: 'on' }).storeRequired, 'the flag wins over the variable').toBe(false);
  });

  it('--recovery and PINLAB_RECOVERY take every spelling', () => {
    expect(parse([]).recovery).toBe(true);
    expect(parse(['--recovery', 'false']).recovery).toBe(false);
    expect(parse([], { PINLAB_RECOVERY: '0' }).recovery).toBe(false);
  });

  it('a bad value names the flag, or the variable it came from', () => {
    expect(() => parse(['--recovery', 'maybe'])).toThrow(/option '--recovery <on\|off>' argument 'maybe' is invalid\. expected on or off/);
    expect(() => parse([], { PINLAB_STORE_REQUIRED: 'sure' })).toThrow(/option '--store-required \[on\|off\]' value 'sure' from env 'PINLAB_STORE_REQUIRED' is invalid\. expected on or off/);
  });
});
