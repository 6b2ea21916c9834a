import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { LabEvent } from '../events.ts';
import { verdictOf } from '../scenarios/verdict.ts';
import { labsForEachTest } from '../test/lab.ts';
import { reduceAll } from './reducer.ts';
import { emptySnapshot } from './snapshot.ts';

// A real lab (process pods running the demo backend, 2 replicas, embedded Redis) and the
// official v2 SDK clients: what the pod cards and the verdict count of modern traffic.
const { startLab } = labsForEachTest();

type Call = Extract<LabEvent, { type: 'traffic.call' }>;

describe('modern requests in the lab\'s state', () => {
  it('are counted per pod on the pod that answered each, as the pods themselves say, and the verdict counts them by era', async () => {
    const { lab, events } = await startLab({ replicas: 2, pods: 3, store: 'redis' });
    lab.startTraffic({ clients: 4, rate: 10, clientsEra: 'mix', modernShare: 0.5 });
    await sleep(2500);
    await lab.stopTraffic();

    const snapshot = reduceAll(emptySnapshot(), events);
    const pods = Object.values(snapshot.pods);
    const modernRouted = events.filter((e) => e.type === 'request.routed' && e.era === 'modern');
    expect(modernRouted.length).toBeGreaterThan(10);
    expect(pods.reduce((n, p) => n + p.modernRequests, 0), 'every modern request lands on a pod card').toBe(modernRouted.length);
    for (const pod of pods) expect(pod.modernRequests).toBeLessThanOrEqual(pod.requests);

    // The pods' own word (the demo's x-pinlab-pod, read by the clients): each pod that answered a modern call counted it.
    const calls = events.filter((e): e is Call => e.type === 'traffic.call' && e.ok);
    const answeredBy = new Set(calls.filter((c) => c.era === 'modern').map((c) => c.pod));
    for (const name of answeredBy) expect(snapshot.pods[name!]!.modernRequests, `${name} answered modern calls`).toBeGreaterThan(0);

    const verdict = verdictOf(events);
    expect(verdict.modern).toBe(calls.filter((c) => c.era === 'modern').length);
    expect(verdict.sessionless, 'legacy clients of the demo have sessions').toBe(0);
    expect(verdict.modern).toBeGreaterThan(0);
  }, 60_000);

  it('a lab started in a known broken combination says so on its timeline, and again when the user selects another', async () => {
    const { lab, events } = await startLab({ replicas: 2, pods: 2, store: 'memory' });
    const warnings = () => events.filter((e) => e.type === 'lab.log' && e.level === 'warn').map((e) => (e as { message: string }).message);
    expect(warnings().filter((m) => m.startsWith('known broken combination'))).toEqual([
      expect.stringMatching(/^known broken combination — 2 replicas, each with its own memory store: /),
    ]);
    expect(lab.brokenCombos().map((c) => c.id)).toEqual(['memory-store-replicas']);
    lab.setPinning('service');
    lab.setAffinity('client-ip');
    lab.setPinning('service'); // selected again: no second warning
    expect(warnings().filter((m) => m.startsWith('known broken combination')).map((m) => m.split(':')[0])).toEqual([
      'known broken combination — 2 replicas, each with its own memory store',
      'known broken combination — pinning to the service',
      'known broken combination — client-IP affinity',
    ]);
  }, 60_000);
});
