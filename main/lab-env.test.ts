import { describe, expect, it } from 'vitest';
import { labDefaultsFromEnv, LabEnvError } from './lab-env.ts';

// The basics (which variables, their messages) are in guards.test.ts; these are the switches,
// read by proxy-core's one on/off parser, as pinlab-proxy and the pinlab CLI read theirs.
describe('the desktop app\'s switches from the environment', () => {
  it.each(['on', 'true', 'yes', '1', 'ON', 'Yes'])('PINLAB_RECOVERY=%s is on', (value) => {
    expect(labDefaultsFromEnv({ PINLAB_RECOVERY: value })).toEqual({ recovery: true });
  });

  it.each(['off', 'false', 'no', '0', 'OFF', 'False'])('PINLAB_RECOVERY=%s is off', (value) => {
    expect(labDefaultsFromEnv({ PINLAB_RECOVERY: value })).toEqual({ recovery: false });
  });

  it('a value that is neither is refused, naming the variable and every spelling it takes', () => {
    expect(() => labDefaultsFromEnv({ PINLAB_RECOVERY: 'sometimes', PINLAB_PODS: '2' })).toThrow(LabEnvError);
    expect(() => labDefaultsFromEnv({ PINLAB_RECOVERY: 'sometimes' }))
      .toThrow('invalid lab settings in the environment — PINLAB_RECOVERY: expected on or off (or true/false, yes/no, 1/0), got "sometimes"');
  });
});
