import { describe, expect, it } from 'vitest';
import type { LabEvent } from './events.ts';
import { verdictOf } from './scenarios/verdict.ts';
import { reduceAll } from './state/reducer.ts';
import { emptySnapshot } from './state/snapshot.ts';
import { labsForEachTest } from './test/lab.ts';

const { startLab } = labsForEachTest();

const health = (events: readonly LabEvent[], pod: string, verdict: 'healthy' | 'unhealthy') =>
  events.flatMap((e) => (e.type === 'pod.health' && e.pod === pod && e.health === verdict ? [e.replicaId] : [])).sort();

describe('a hung pod in the lab (process pods, SIGSTOP)', () => {
  it('is marked unhealthy by every replica while paused, its sessions move, no recoverable error; the marks clear once it answers again', async () => {
    const { lab, events } = await startLab({ replicas: 2, pods: 3, store: 'redis', pinning: 'pod', recovery: true });
    lab.startTraffic({ clients: 6, rate: 5 });
    // Every client's session in use (its handshake over, a call answered) before the pod hangs.
    const inUse = () => new Set(events.flatMap((e) => (e.type === 'traffic.call' && e.ok && e.sessionId ? [e.sessionId] : []))).size;
    await expect.poll(inUse, { timeout: 10_000 }).toBe(6);
    const pinned = reduceAll(emptySnapshot(), events);
    const victim = Object.values(pinned.pods).sort((a, b) => b.sessions - a.sessions)[0]!;
    const address = victim.address!;
    const onVictim = Object.values(pinned.sessions).filter((s) => s.pod === address).map((s) => s.id).sort();
    expect(onVictim.length).toBeGreaterThan(0);

    await lab.pausePod(victim.name);
    await expect.poll(() => health(events, address, 'unhealthy'), { timeout: 10_000 }).toEqual(['replica-1', 'replica-2']);
    // Each session on the paused pod is re-initialized elsewhere, for the pod's failed probes.
    await expect.poll(() => [...new Set(events.flatMap((e) => (e.type === 'recovery.done' && e.fromPod === address ? [e.sessionId] : [])))].sort(), { timeout: 10_000 })
      .toEqual(onVictim);
    expect(events.some((e) => e.type === 'recovery.done' && e.fromPod === address && e.cause === 'pod-unhealthy')).toBe(true);
    // Calls did wait on it (those sent before the verdict) and were ended, not left hanging.
    expect(events.some((e) => e.type === 'inflight.changed' && e.pod === address && e.calls > 0)).toBe(true);
    await expect.poll(() => reduceAll(emptySnapshot(), events).pods[victim.name]!.waiting.calls, { timeout: 5000 }).toBe(0);

    const paused = reduceAll(emptySnapshot(), events);
    expect(paused.pods[victim.name]).toMatchObject({ state: 'paused', unhealthy: { 'replica-1': expect.any(String), 'replica-2': expect.any(String) } });
    expect(Object.values(paused.pods[victim.name]!.unhealthy)).toEqual([expect.stringMatching(/no answer within \d+ ms/), expect.stringMatching(/no answer within \d+ ms/)]);
    expect(Object.values(paused.sessions).filter((s) => s.client && !s.deleted && s.pod === address)).toEqual([]);
    expect(Object.values(paused.pods).filter((p) => p.name !== victim.name).every((p) => Object.keys(p.unhealthy).length === 0)).toBe(true);

    await lab.unpausePod(victim.name);
    await expect.poll(() => health(events, address, 'healthy'), { timeout: 10_000 }).toEqual(['replica-1', 'replica-2']);
    await lab.stopTraffic();

    const after = reduceAll(emptySnapshot(), events);
    expect(after.pods[victim.name]).toMatchObject({ state: 'ready', unhealthy: {} });
    const verdict = verdictOf(events);
    expect(verdict.requests).toBeGreaterThan(20);
    expect(verdict.recoverableErrors, verdict.errorSamples.join('\n')).toBe(0);
    expect(verdict.slowCalls, `the longest wait: ${verdict.longestWaitMs} ms`).toBe(0);
    // `counter` is not idempotent: a call under way when the pod hung may be answered "outcome unknown", each told by an `inflight.ended`.
    const answeredUnknown = events.filter((e) => e.type === 'inflight.ended' && e.outcome === 'unknown-outcome' && e.pod === address).length;
    expect(verdict.unknownOutcome).toBeLessThanOrEqual(answeredUnknown);
    expect(after.totals).toMatchObject({ recoverableErrors: 0, unknownOutcome: verdict.unknownOutcome, slowCalls: 0 });
    // The verdicts are told by the events themselves (the timeline's lines), not again as bare log lines.
    expect(events.filter((e) => e.type === 'lab.log' && /pod\.health|inflight\.ended/.test(e.message))).toEqual([]);
  }, 60_000);
});
