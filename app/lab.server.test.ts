import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../proxy-core/test/client.ts';
import { startRedis, type TestRedis } from '../proxy-core/test/redis.ts';
import type { LabEvent } from './events.ts';
import { Lab } from './lab.ts';
import { runScenario } from './scenarios/run.ts';
import { verdictOf } from './scenarios/verdict.ts';
import { reduceAll } from './state/reducer.ts';
import { emptySnapshot } from './state/snapshot.ts';
import { labsForEachTest } from './test/lab.ts';

const EVERYTHING = 'node_modules/@modelcontextprotocol/server-everything/dist/index.js';
const STATELESS = 'app/server/fixtures/stateless-server.ts';

const { labs, startLab } = labsForEachTest();

const keyCounts = (events: LabEvent[]) => events.flatMap((e) => (e.type === 'redis.keys' ? [e.keys] : []));
const calls = (events: LabEvent[]) => events.filter((e): e is Extract<LabEvent, { type: 'traffic.call' }> => e.type === 'traffic.call');

describe('the server under test', () => {
  it('is identified at start, before any traffic: the demo backend, its tools, its sessions', async () => {
    const { lab, events } = await startLab({ replicas: 1, pods: 2, store: 'memory' });
    expect(lab.server).toMatchObject({ kind: 'demo', source: 'the Pinlab demo backend', name: 'pinlab-demo', version: '0.1.0', sessions: true, error: null });
    expect(lab.server!.tools.map((t) => t.name)).toContain('counter');
    const identified = events.find((e) => e.type === 'server.identified');
    expect(identified).toMatchObject({ server: lab.server });
    expect(events.findIndex((e) => e.type === 'server.identified')).toBeLessThan(events.findIndex((e) => e.type === 'replica.changed'));
    expect(reduceAll(emptySnapshot(), events).server).toEqual(lab.server);
    // The probe's session is closed again: no pod holds a session the lab did not make.
    expect(events.some((e) => e.type === 'session.created')).toBe(false);
  });

  it('checks the call the clients are to make against the server\'s tools before any client starts', async () => {
    const { lab, events } = await startLab({ replicas: 1, pods: 1, store: 'memory' });
    expect(() => lab.startTraffic({ clients: 2, rate: 5, call: { tool: 'ehco', args: {} } }))
      .toThrow('no tool "ehco" on pinlab-demo: its tools are whoami, counter, echo, slow');
    expect(() => lab.startTraffic({ clients: 2, rate: 5, call: { tool: 'echo', args: { text: 7 } } }))
      .toThrow('arguments for "echo" do not match its input schema: /text must be string');
    expect(lab.trafficRunning).toBe(false);

    lab.startTraffic({ clients: 2, rate: 10, call: { tool: 'echo', args: { text: 'hi' } } });
    await expect.poll(() => calls(events).filter((c) => c.ok).length, { timeout: 10_000 }).toBeGreaterThan(4);
    await lab.stopTraffic();
    expect(calls(events).every((c) => c.ok && c.method === 'tools/call echo')).toBe(true);
  });

  it('a scenario with a bad call (the config\'s) fails with the same message, and stops its lab', async () => {
    await expect(runScenario('pod-kill', { runtime: 'process', replicas: 1, pods: 1, store: 'memory', call: { tool: 'nope', args: {} } }))
      .rejects.toThrow(/^no tool "nope" on pinlab-demo: its tools are whoami, counter, echo, slow$/);
    expect([...Lab.running]).toEqual(labs);
  });
});

describe('state losses on a server that is not the demo', () => {
  it('counts each re-initialization as a state loss, in the verdict and the snapshot alike (server-everything)', async () => {
    const { lab, events } = await startLab({
      replicas: 2, pods: 2, store: 'redis',
      backend: { kind: 'command', command: process.execPath, args: [EVERYTHING, 'streamableHttp'] },
      call: { tool: 'echo', args: { message: 'hello' } },
    });
    expect(lab.server).toMatchObject({ kind: 'command', name: 'mcp-servers/everything', sessions: true, error: null });
    lab.startTraffic({ clients: 6, rate: 5 });
    // Every session in use (its handshake over, a call answered): a kill mid-handshake is another story.
    const inUse = () => new Set(calls(events).flatMap((c) => (c.ok && c.sessionId ? [c.sessionId] : []))).size;
    await expect.poll(inUse, { timeout: 10_000 }).toBe(6);
    const pinned = new Map<string, number>();
    for (const e of events) if (e.type === 'session.created') pinned.set(e.pod, (pinned.get(e.pod) ?? 0) + 1);
    const busiest = [...pinned.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    await lab.killPod(lab.pods().find((p) => p.address === busiest)!.name);
    await expect.poll(() => events.filter((e) => e.type === 'recovery.done' && !e.reused).length, { timeout: 15_000 }).toBe(pinned.get(busiest));
    await sleep(500);
    await lab.stopTraffic();

    const verdict = verdictOf(events);
    expect(verdict.recoveries).toBe(pinned.get(busiest));
    expect(verdict.stateLosses, 'each re-initialization started its session afresh').toBe(verdict.recoveries);
    // echo is read-only, but these clients never listed the tools through the proxy: one in flight at the kill may honestly be answered "outcome unknown".
    expect(verdict.recoverableErrors, verdict.errorSamples.join('\n')).toBe(0);
    expect(verdict.sessionless).toBe(0);
    expect(verdictOf(events, { demo: true }).stateLosses, 'no counter to go back on this server').toBe(0);
    const snapshot = reduceAll(emptySnapshot(), events);
    expect(snapshot.totals).toMatchObject({
      recoveries: verdict.recoveries, stateLosses: verdict.stateLosses, recoverableErrors: 0, unknownOutcome: verdict.unknownOutcome, sessionless: 0,
    });
  });
});

describe('a stateless server', () => {
  it('has its traffic passed through the service: calls ok with no session, counted as sessionless, not errors', async () => {
    const { lab, events } = await startLab({
      replicas: 2, pods: 2, store: 'redis',
      backend: { kind: 'command', command: process.execPath, args: [STATELESS] },
      call: { tool: 'add', args: { a: 1, b: 2 } },
    });
    expect(lab.server).toMatchObject({ name: 'pinlab-stateless-fixture', version: '1.2.3', sessions: false, error: null });
    lab.startTraffic({ clients: 4, rate: 10 });
    await expect.poll(() => calls(events).length, { timeout: 10_000 }).toBeGreaterThan(20);
    const stopping = Date.now();
    await lab.stopTraffic();

    const done = calls(events);
    expect(done.filter((c) => !c.ok).map((c) => c.error)).toEqual([]);
    expect(done.every((c) => c.sessionId === null && c.method === 'tools/call add')).toBe(true);
    expect(events.some((e) => e.type === 'session.created')).toBe(false);
    // Every POST answered (200, or 202 for notifications), none with a session; the calls went through the service.
    // (Until the traffic stopped: stopping cuts the requests under way.)
    const routed = events.filter((e) => e.type === 'request.routed' && e.httpMethod === 'POST' && e.at < stopping);
    expect(routed.filter((e) => e.type === 'request.routed' && (e.sessionId !== null || (e.status !== 200 && e.status !== 202)))).toEqual([]);
    // Each names the pod the service chose for it (its connection's), not "service".
    expect(routed.filter((e) => e.type === 'request.routed' && /^127\.0\.0\.1:\d+$/.test(e.pod ?? '') && e.status === 200).length)
      .toBeGreaterThanOrEqual(done.filter((c) => c.at < stopping).length);

    const verdict = verdictOf(events);
    expect(verdict).toMatchObject({ requests: done.length, clientErrors: 0, sessionless: done.length, recoveries: 0, stateLosses: 0 });
    expect(reduceAll(emptySnapshot(), events).totals).toMatchObject({ calls: done.length, clientErrors: 0, sessionless: done.length });
    // No sessions: nothing in Redis to count.
    expect(keyCounts(events)).toEqual([0]);
  });
});

describe('Redis key count', () => {
  it('follows session records in the embedded Redis as sessions come and go', async () => {
    const { lab, events } = await startLab({ replicas: 2, pods: 1, store: 'redis' });
    await expect.poll(() => keyCounts(events), { timeout: 10_000 }).toEqual([0]);
    const sessions = await Promise.all([1, 2, 3].map(() => connectClient(lab.ingressUrl)));
    await expect.poll(() => keyCounts(events).at(-1), { timeout: 10_000 }).toBe(3);
    for (const { client, transport } of sessions.slice(0, 2)) {
      await transport.terminateSession();
      await client.close();
    }
    await expect.poll(() => keyCounts(events).at(-1), { timeout: 10_000 }).toBe(1);
    expect(reduceAll(emptySnapshot(), events).redis.keys).toBe(1);
    // Only changes are events.
    const counts = keyCounts(events);
    expect(counts.every((n, i) => i === 0 || n !== counts[i - 1])).toBe(true);
    await sessions[2]!.client.close();

    await lab.setStore('memory');
    expect(keyCounts(events).at(-1), 'the memory store has nothing to count').toBeNull();
  });

  describe('on an external Redis', () => {
    let redis: TestRedis;
    beforeAll(async () => {
      redis = await startRedis();
    });
    afterAll(async () => {
      await redis.close();
    });

    it('counts its records too, and never stops or flushes it', async () => {
      await redis.client.set('pinlab:session:left-by-someone', '{}');
      const { lab, events } = await startLab({ replicas: 1, pods: 1, store: 'redis', redisUrl: redis.url });
      await expect.poll(() => keyCounts(events), { timeout: 10_000 }).toEqual([1]);
      const { client, transport } = await connectClient(lab.ingressUrl);
      await expect.poll(() => keyCounts(events).at(-1), { timeout: 10_000 }).toBe(2);
      await expect(lab.stopRedis()).rejects.toThrow('the lab does not own an external Redis: stop it yourself');
      await expect(lab.flushRedis()).rejects.toThrow('the lab does not own an external Redis: stop it yourself');
      await transport.terminateSession();
      await client.close();
      await lab.stop();
      expect(await redis.client.ping()).toBe('PONG');
      expect(await redis.client.get('pinlab:session:left-by-someone')).toBe('{}');
    });
  });
});
