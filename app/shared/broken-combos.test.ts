import { describe, expect, it } from 'vitest';
import { LAB_DEFAULTS } from '../config.ts';
import { brokenComboLine, brokenCombosOf } from './broken-combos.ts';

describe('known broken combinations', () => {
  it('are none in the default lab', () => {
    expect(brokenCombosOf(LAB_DEFAULTS)).toEqual([]);
  });

  it('name several replicas on the memory store, client-IP affinity and service pinning, each with what to choose instead', () => {
    const combos = brokenCombosOf({ ...LAB_DEFAULTS, store: 'memory', affinity: 'client-ip', pinning: 'service' });
    expect(combos.map((c) => c.id)).toEqual(['memory-store-replicas', 'client-ip-affinity', 'service-pinning']);
    for (const combo of combos) expect(combo.why).toMatch(/: choose .+\.$/);
    expect(brokenComboLine(combos[2]!)).toMatch(/^known broken combination — pinning to the service: A session remembers the service's address/);
  });

  it('leave out what cannot break at that size: one replica, one pod', () => {
    expect(brokenCombosOf({ ...LAB_DEFAULTS, replicas: 1, store: 'memory', affinity: 'client-ip' })).toEqual([]);
    expect(brokenCombosOf({ ...LAB_DEFAULTS, pods: 1, pinning: 'service' })).toEqual([]);
  });
});
