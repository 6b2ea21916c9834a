import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { LabEvent } from '../events.ts';
import { Lab } from '../lab.ts';
import { LabService } from './lab-service.ts';

describe('the lab behind the typed API', () => {
  const service = new LabService({ runtime: 'process', ingressPort: 0 });
  const pushed: LabEvent[] = [];
  service.follow((message) => {
    if ('events' in message) pushed.push(...message.events);
  });
  let dir = '';
  afterAll(async () => {
    await service.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers bad commands and arguments with an error a person can act on', async () => {
    expect(await service.invoke('pod.kill', { pod: 'x' })).toEqual({ error: { message: 'pod.kill: pod: a pod name such as pod-1' } });
    expect(await service.invoke('pods.scale', { count: 99 })).toMatchObject({ error: { message: expect.stringMatching(/^pods.scale: count: .*32/) } });
    expect(await service.invoke('pod.kill', { pod: 'pod-1' })).toEqual({ error: { message: 'no lab is running: start one first (lab.start)' } });
    expect(await service.invoke('nope' as 'lab.stop')).toEqual({ error: { message: 'unknown command "nope"' } });
    expect(await service.invoke('lab.start', { replicas: 0 })).toMatchObject({ error: { message: expect.stringMatching(/replicas/) } });
  });

  it('starts a lab, keeps its snapshot from events, runs chaos and a scenario, exports a report', async () => {
    const started = await service.invoke('lab.start', { replicas: 2, pods: 2 });
    if ('error' in started) throw new Error(started.error.message);
    expect(started.result.pods.map((p) => p.state)).toEqual(['ready', 'ready']);
    expect(started.result.ingressUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);

    const verdict = await service.invoke('scenario.run', { name: 'pod-kill' });
    if ('error' in verdict) throw new Error(verdict.error.message);
    // The demo's counter is not idempotent: one in flight at the kill may honestly be answered "outcome unknown".
    expect(verdict.result).toMatchObject({ scenario: 'pod-kill', recoverableErrors: 0 });
    expect(verdict.result.requests).toBeGreaterThan(0);

    const snapshot = await service.invoke('snapshot.get');
    if ('error' in snapshot) throw new Error(snapshot.error.message);
    const pods = Object.values(snapshot.result.pods);
    expect(pods.filter((p) => p.state === 'dead')).toHaveLength(1);
    expect(pods.filter((p) => p.state === 'ready')).toHaveLength(2);
    expect(Object.keys(snapshot.result.replicas)).toEqual(['replica-1', 'replica-2']);
    expect(snapshot.result.totals.calls).toBe(verdict.result.requests);
    expect(pushed.length, 'events were pushed to subscribers').toBeGreaterThan(0);
    expect(pushed.some((e) => e.type === 'recovery.done')).toBe(true);

    dir = await mkdtemp(join(tmpdir(), 'pinlab-report-test-'));
    const report = await service.invoke('report.export', { dir });
    if ('error' in report) throw new Error(report.error.message);
    const markdown = await readFile(report.result.markdown, 'utf8');
    expect(markdown).toMatch(/^# Pinlab report/);
    expect(markdown).toMatch(/re-initialized on 127\.0\.0\.1:\d+ in [\d.]+ ms/);
    expect(markdown).toMatch(/- @modelcontextprotocol\/sdk: \d+\.\d+\.\d+/);
    const json = JSON.parse(await readFile(report.result.json, 'utf8'));
    expect(json.verdict.recoverableErrors).toBe(0);
    expect(json.sessions.length).toBeGreaterThan(0);

    expect(await service.invoke('lab.start', {})).toEqual({ error: { message: 'a lab is already running: stop it first' } });
    expect(await service.invoke('lab.stop')).toEqual({ result: null });
    expect(await service.invoke('lab.status')).toEqual({ result: null });
  });

  it('runs the matrix on labs of its own, telling each row as it ends', async () => {
    const before = pushed.length;
    expect(await service.invoke('matrix.run', { scenarios: ['nope'] })).toMatchObject({ error: { message: expect.stringMatching(/matrix.run: scenarios.0: .*"pod-kill"\|"pod-hang"\|"pod-restart-in-place"/) } });
    const matrix = await service.invoke('matrix.run', { scenarios: ['redis-outage'], clients: 2 });
    if ('error' in matrix) throw new Error(matrix.error.message);
    expect(matrix.result).toHaveLength(8);
    const redisPodOn = matrix.result.find((r) => r.store === 'redis' && r.pinning === 'pod' && r.recovery)!;
    expect(redisPodOn.verdict).toMatchObject({ recoverableErrors: 0 });
    expect(redisPodOn.verdict!.requests).toBeGreaterThan(0);
    expect(matrix.result.filter((r) => r.store === 'redis').every((r) => r.verdict !== null && r.notApplicable === null && r.failed === null)).toBe(true);
    expect(matrix.result.filter((r) => r.store === 'memory').every((r) => r.verdict === null && r.failed === null && /no Redis/.test(r.notApplicable ?? ''))).toBe(true);
    await expect.poll(() => pushed.slice(before).filter((e) => e.type === 'lab.log' && e.message.startsWith('matrix: ')).length).toBe(8);
    expect(pushed.some((e) => e.type === 'lab.log' && /^matrix: redis-outage with store memory, pinning pod, recovery on: n\/a \(.*no Redis/.test(e.message))).toBe(true);
  }, 120_000);
});

describe('the matrix through the typed API, on the server under test', () => {
  it('runs the lab\'s own server in every mode: one that never starts is a failed row with its reason, not an n/a', async () => {
    const service = new LabService({ runtime: 'process', pods: 1, replicas: 1, backend: { kind: 'command', command: process.execPath, args: ['-e', 'process.exit(3)'] } });
    try {
      const matrix = await service.invoke('matrix.run', { scenarios: ['redis-outage'], clients: 1 });
      if ('error' in matrix) throw new Error(matrix.error.message);
      const redis = matrix.result.filter((r) => r.store === 'redis');
      expect(redis).toHaveLength(4);
      for (const row of redis) {
        expect(row).toMatchObject({ verdict: null, notApplicable: null, failed: expect.stringMatching(/pod-1.*exited with code 3/s) });
      }
      expect(matrix.result.filter((r) => r.store === 'memory').map((r) => r.notApplicable)).toEqual(Array(4).fill('the lab uses the memory store: there is no Redis to break'));
    } finally {
      await service.close();
    }
  }, 120_000);

  it('never breaks an external Redis: the Redis outage is n/a in every mode, and no lab is started for it', async () => {
    const service = new LabService({ runtime: 'process', redisUrl: 'redis://127.0.0.1:9' });
    const start = vi.spyOn(Lab, 'start');
    try {
      const matrix = await service.invoke('matrix.run', { scenarios: ['redis-outage'] });
      if ('error' in matrix) throw new Error(matrix.error.message);
      expect(matrix.result.map((r) => [r.store, r.notApplicable, r.failed])).toEqual([
        ...Array(4).fill(['redis', "the lab's Redis is external: the lab never stops or flushes a Redis it did not start", null]),
        ...Array(4).fill(['memory', 'the lab uses the memory store: there is no Redis to break', null]),
      ]);
      expect(start).not.toHaveBeenCalled();
    } finally {
      start.mockRestore();
      await service.close();
    }
  });
});
