import { createServer } from 'node:net';
import { readdirSync } from 'node:fs';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { call, connectClient } from '../proxy-core/test/client.ts';
import { parseLabConfig } from './config.ts';
import { Lab } from './lab.ts';
import { PID_ROOT } from './pods/process-runtime.ts';
import { labsForEachTest } from './test/lab.ts';

const { startLab } = labsForEachTest();

describe('lab config', () => {
  it('names each bad field and what it allows', () => {
    expect(() => parseLabConfig({ replicas: 0, affinity: 'sticky', runtime: 'vm' })).toThrow(
      /replicas: .*>=1.*affinity: .*"round-robin"\|"client-ip"\|"cookie"\|"session-hash".*runtime: .*"docker"\|"process"\|"auto"/,
    );
    expect(parseLabConfig({})).toMatchObject({ replicas: 2, pods: 3, store: 'redis', pinning: 'pod', recovery: true, ingressPort: 7400 });
  });
});

describe('lab on the process runtime', () => {
  it('serves MCP through the ingress, replaces a killed pod, and leaves nothing when stopped', async () => {
    const { lab, events } = await startLab({ replicas: 2, pods: 2 });
    expect(lab.runtimeNote).toMatch(/local processes/);
    expect(lab.replicaList().map((r) => r.state)).toEqual(['running', 'running']);
    const { client } = await connectClient(lab.ingressUrl);
    const first = await call<{ pod: string }>(client, 'whoami');
    const second = await call<{ pod: string }>(client, 'whoami');
    expect(second.pod).toBe(first.pod);

    const before = lab.pods();
    const victim = before.find((p) => p.name === first.pod)!;
    await lab.killPod(victim.name);
    expect((await call<{ pod: string }>(client, 'whoami')).pod).not.toBe(first.pod);
    await expect.poll(() => lab.pods().filter((p) => p.state === 'ready').length, { timeout: 15_000 }).toBe(2);
    const replacement = lab.pods().find((p) => !before.some((b) => b.name === p.name))!;
    expect(replacement.name).toBe('pod-3');
    expect(replacement.address).not.toBe(victim.address);
    expect(events.some((e) => e.type === 'pod.changed' && e.pod === victim.name && e.state === 'dead')).toBe(true);
    expect(events.some((e) => e.type === 'recovery.done')).toBe(true);
    await client.close();

    const addresses = lab.pods().map((p) => p.url);
    await lab.stop();
    for (const url of addresses) await expect(request(url, { method: 'GET' })).rejects.toThrow(/ECONNREFUSED/);
    expect(readdirSync(PID_ROOT).filter((d) => d === lab.id)).toEqual([]);
    await expect(request(lab.ingressUrl, { method: 'GET' })).rejects.toThrow(/ECONNREFUSED/);
  });

  it('a taken ingress port is a clear error, and nothing is left running', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const port = (blocker.address() as { port: number }).port;
    const labDirs = () => { try { return readdirSync(PID_ROOT); } catch { return []; } };
    const before = labDirs();
    await expect(Lab.start({ runtime: 'process', pods: 1, replicas: 1, store: 'memory', ingressPort: port })).rejects.toThrow(
      new RegExp(`ingress port ${port} on 127.0.0.1 is already in use`),
    );
    blocker.close();
    expect(Lab.running.size).toBe(0);
    expect(labDirs().filter((d) => !before.includes(d)), 'no pod pid files left').toEqual([]);
  });

  it('switching the store restarts the replicas onto it (starting Redis when there is none)', async () => {
    const { lab, events } = await startLab({ replicas: 2, pods: 1, store: 'memory' });
    await lab.setStore('redis');
    expect(lab.config.store).toBe('redis');
    expect(lab.redisUrl()).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(lab.replicaList().map((r) => [r.state, r.generation])).toEqual([['running', 2], ['running', 2]]);
    expect(events.some((e) => e.type === 'redis.changed' && e.up)).toBe(true);
    // Sessions are now shared: one opened through one replica is served by the other.
    const { client } = await connectClient(lab.ingressUrl);
    for (let i = 0; i < 4; i++) await call(client, 'counter');
    expect(await call<{ count: number }>(client, 'counter')).toMatchObject({ count: 5 });
    await client.close();
  });

  it('live switches reach the replicas; chaos on Redis needs the embedded one', async () => {
    const { lab } = await startLab({ replicas: 1, pods: 1, store: 'memory' });
    lab.setRecovery(false);
    lab.setPinning('service');
    lab.setAffinity('session-hash');
    expect(lab.config).toMatchObject({ recovery: false, pinning: 'service', affinity: 'session-hash' });
    await expect(lab.stopRedis()).rejects.toThrow(/memory store: there is no Redis/);
    await expect(lab.killPod('pod-9')).rejects.toThrow(/no pod named pod-9/);
    await expect(lab.scalePods(40)).rejects.toThrow(/from 1 to 32/);
  });
});
