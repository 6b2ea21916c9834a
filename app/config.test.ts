import { describe, expect, it } from 'vitest';
import { PINNING_KINDS } from '../proxy-core/session/record.ts';
import { commandArgs } from './api/contract.ts';
import { allowedNumbers, LAB_DEFAULTS, labConfigSchema, LIMITS, parseLabConfig, pinningSchema, portSchema, TRAFFIC_DEFAULTS, trafficSchema } from './config.ts';

describe('the lab\'s limits, read from its schema', () => {
  it('are the bounds the UI and the CLI show', () => {
    expect(LIMITS).toEqual({
      replicas: { min: 1, max: 16, whole: true },
      pods: { min: 1, max: 32, whole: true },
      clients: { min: 1, max: 1000, whole: true },
      rate: { min: 0.1, max: 100, whole: false },
      modernShare: { min: 0, max: 1, whole: false },
    });
    expect(allowedNumbers(labConfigSchema.shape.pods)).toBe('a whole number from 1 to 32');
    expect(allowedNumbers(trafficSchema.shape.rate)).toBe('a number from 0.1 to 100');
    expect(allowedNumbers(portSchema)).toBe('a whole number from 1 to 65535');
  });

  it('are the ones the API contract checks, with its arguments still required', () => {
    const { max } = LIMITS.pods;
    expect(commandArgs['pods.scale'].safeParse({ count: max }).success).toBe(true);
    expect(commandArgs['pods.scale'].safeParse({ count: max + 1 }).success).toBe(false);
    expect(commandArgs['replicas.scale'].safeParse({ count: LIMITS.replicas.max + 1 }).success).toBe(false);
    expect(commandArgs['pods.scale'].safeParse({}).success, 'no default count').toBe(false);
    expect(commandArgs['traffic.start'].safeParse({ clients: 8, rate: 5 }).success).toBe(true);
    expect(commandArgs['traffic.start'].safeParse({ clients: 8 }).success, 'no default rate').toBe(false);
    expect(commandArgs['traffic.start'].safeParse({ clients: LIMITS.clients.max + 1, rate: 5 }).success).toBe(false);
  });

  it('keep the defaults a lab and its traffic start with', () => {
    expect(LAB_DEFAULTS).toMatchObject({ replicas: 2, pods: 3, store: 'redis', pinning: 'pod', recovery: true, affinity: 'round-robin', runtime: 'auto', ingressPort: 7400, keyPrefix: 'pinlab:' });
    expect(TRAFFIC_DEFAULTS).toEqual({ clients: 8, rate: 5 });
    expect(LAB_DEFAULTS).toMatchObject({ clientsEra: 'legacy', modernShare: 0.5, backend: { kind: 'demo' } });
  });

  it('the clients\' era and the demo\'s carts: checked each, and together', () => {
    expect(() => parseLabConfig({ clientsEra: 'future', modernShare: 2 })).toThrow(/clientsEra: .*"legacy"\|"modern"\|"mix".*modernShare: .*<=1/);
    expect(() => parseLabConfig({ backend: { kind: 'demo', carts: 'disk' } })).toThrow(/backend\.carts: .*"memory"\|"redis"/);
    expect(() => parseLabConfig({ runtime: 'docker', backend: { kind: 'demo', carts: 'redis' } }))
      .toThrow("invalid lab config — backend.carts: 'redis' needs the process runtime (or auto, which then picks it): a Docker pod cannot reach the lab's Redis on 127.0.0.1");
    expect(parseLabConfig({ runtime: 'auto', backend: { kind: 'demo', carts: 'redis' } }).backend).toEqual({ kind: 'demo', carts: 'redis' });
    expect(commandArgs['traffic.start'].safeParse({ clients: 8, rate: 5, clientsEra: 'mix', modernShare: 0.25 }).success).toBe(true);
    expect(commandArgs['traffic.start'].safeParse({ clients: 8, rate: 5, modernShare: -0.1 }).success).toBe(false);
  });

  it('take the pinning kinds and the key prefix rule from proxy-core', () => {
    expect(pinningSchema.options).toEqual([...PINNING_KINDS]);
    expect(labConfigSchema.safeParse({ keyPrefix: 'a b' }).error?.issues[0]?.message).toBe('must be letters, digits and : _ . - (at most 64)');
  });
});
