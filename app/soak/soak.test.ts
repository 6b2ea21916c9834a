import { describe, expect, it } from 'vitest';
import { formatSoak } from './format.ts';
import { runSoak } from './soak.ts';

// CI's soak: `npm run soak` for one minute, through the same function. On Docker where the
// engine answers (CI starts one), else on processes; the table says which.
describe('the soak', () => {
  it('50 clients for a minute of kills, pauses and restarts: no recoverable error, each kind of chaos recovered from, nothing left', async () => {
    const result = await runSoak({ minutes: 1 });
    console.log(formatSoak(result));
    const f = result.figures;

    // What the clients saw: every error one the proxy could not hide (a call under way on a
    // pod that stopped, not safe to send again), none it should have. The kinds say why.
    expect(f.errorKinds.recoverable).toEqual([]);
    expect(f.recoverableErrors).toBe(0);
    expect(f.calls).toBeGreaterThan(1000);

    // Each kind of chaos happened, and was recovered from. (A step the engine refused, such as
    // a `docker pause` that could not freeze a busy container, is in the table, not a failure.)
    expect(result.chaos.done.killPod).toBeGreaterThan(0);
    const dialed = Object.entries(f.recoveries).filter(([cause]) => cause !== 'pod-unhealthy').reduce((sum, [, n]) => sum + n, 0);
    expect(dialed, 'sessions of killed pods re-initialized elsewhere').toBeGreaterThan(0);
    expect(result.chaos.done.pausePod).toBeGreaterThan(0);
    expect(f.inFlightEnded.hung, 'calls on a paused pod ended by its health verdict').toBeGreaterThan(0);
    expect(f.recoveries['pod-unhealthy'] ?? 0, 'sessions of a paused pod re-initialized elsewhere').toBeGreaterThan(0);
    expect(result.chaos.done.restartReplica).toBeGreaterThan(0);
    expect(f.servedAfterReplicaRestart, 'restarted replicas served older sessions from Redis').toBeGreaterThan(0);
    expect(result.chaos.done.restartRedis).toBe(1);
    expect(f.storeRestored, 'replicas wrote their sessions back to the emptied Redis').toBeGreaterThan(0);

    // Nothing left behind.
    expect(result.leftovers).toMatchObject({ processes: 0, pidFiles: 0 });
    expect(result.leftovers.containers ?? 0).toBe(0);
    expect(result.problems).toEqual([]);
  }, 180_000);
});
