import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProxyConfig } from './config.ts';
import { UNKNOWN_OUTCOME } from './jsonrpc.ts';
import { call, connectClient, rawSession } from './test/client.ts';
import { ofType, podOf, startLab, until } from './test/lab.ts';
import type { TestPod } from './test/pods.ts';

type WhoAmI = { pod: string; session: string };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

/** Probes fast enough for tests: a pod that stops answering is unhealthy after 2 × 250 ms. */
const FAST: Partial<ProxyConfig> = { healthIntervalMs: 250, healthTimeoutMs: 250, unhealthyAfter: 2 };

async function lab(podCount: number, replica: Partial<ProxyConfig> = FAST) {
  const started = await startLab(podCount, 1, { replica });
  cleanups.push(() => started.close());
  return { ...started, proxy: started.replicas[0]! };
}

/** The JSON-RPC error a rejected SDK call carries. */
async function rpcError(promise: Promise<unknown>): Promise<McpError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof McpError) return error;
    throw error;
  }
  throw new Error('the call succeeded');
}

describe('hung pods: health probes, calls in flight, replay safety', () => {
  it('a paused pinned pod (default probes): the next call is answered from another pod, with no error', async () => {
    const { pods, proxy } = await lab(3, {});
    const { client, transport } = await connectClient(proxy.url);
    const id = transport.sessionId!;
    const pinned = podOf(pods, proxy, id);
    await client.listTools(); // whoami is annotated read-only: safe to replay
    expect((await call<WhoAmI>(client, 'whoami')).pod).toBe(pinned.name);

    pinned.pause();
    const after = await call<WhoAmI>(client, 'whoami');

    expect(after.pod).not.toBe(pinned.name);
    expect(transport.sessionId, 'the client keeps its session').toBe(id);
    expect(ofType(proxy.events, 'pod.health')).toContainEqual(expect.objectContaining({ pod: pinned.address, health: 'unhealthy', failures: 2 }));
    expect(ofType(proxy.events, 'recovery.done')).toMatchObject([{ fromPod: pinned.address, cause: 'pod-unhealthy', reused: false }]);
    await client.close();
  });

  it('calls under way on a pod that stops answering: reads and read-only tools replayed, others answered "may or may not have run"', async () => {
    const { pods, proxy } = await lab(2, { healthIntervalMs: 500, healthTimeoutMs: 500, unhealthyAfter: 2 });
    const { client, transport } = await connectClient(proxy.url);
    const id = transport.sessionId!;
    const pinned = podOf(pods, proxy, id);
    await client.listTools();

    pinned.pause();
    const ping = client.ping();
    const list = client.listTools();
    const whoami = call<WhoAmI>(client, 'whoami');
    const counter = rpcError(call(client, 'counter'));
    // Before the verdict: the calls wait on the pod, and that is visible.
    await until('4 calls counted as waiting on the paused pod', () => proxy.proxy.inFlight().some((p) => p.pod === pinned.address && p.calls >= 4));
    const waiting = proxy.proxy.inFlight().find((p) => p.pod === pinned.address)!;
    expect(waiting.sessions).toEqual([{ sessionId: id, calls: waiting.calls, oldestAt: waiting.oldestAt }]);
    expect(waiting.oldestAt).toBeLessThanOrEqual(Date.now());

    await ping;
    expect((await list).tools.map((t) => t.name)).toContain('counter');
    expect((await whoami).pod).not.toBe(pinned.name);
    const error = await counter;
    expect(error.code).toBe(UNKNOWN_OUTCOME);
    expect(error.message).toMatch(new RegExp(`pod ${pinned.address} stopped answering its health probes.*may or may not have run`));

    const ended = ofType(proxy.events, 'inflight.ended').filter((e) => e.outcome !== 'stream-closed');
    expect(ended.map((e) => [e.rpcMethod, e.outcome]).sort()).toEqual([
      ['ping', 'replayed'], ['tools/call counter', 'unknown-outcome'], ['tools/call whoami', 'replayed'], ['tools/list', 'replayed'],
    ]);
    expect(ended.every((e) => e.reason === 'pod-unhealthy' && e.sessionId === id && e.pod === pinned.address)).toBe(true);
    expect(ofType(proxy.events, 'recovery.done').filter((e) => !e.reused), 'one re-initialization for all of them').toHaveLength(1);
    await until('no call counted as waiting any more', () => proxy.proxy.inFlight().length === 0);
    await until('an inflight.changed event saying so', () => ofType(proxy.events, 'inflight.changed').some((e) => e.pod === pinned.address && e.calls === 0 && e.oldestAt === null));
    expect(ofType(proxy.events, 'inflight.changed').some((e) => e.pod === pinned.address && e.calls >= 4)).toBe(true);
    await client.close();
  });

  it('--replay-in-flight: `all` replays even an unannotated tool; `none` answers even a ping as "may or may not have run"', async () => {
    const { pods, proxy } = await lab(3, { ...FAST, replayInFlight: 'all' });
    const { client, transport } = await connectClient(proxy.url);
    const first = podOf(pods, proxy, transport.sessionId!);
    first.pause();
    expect(await call(client, 'counter'), 'replayed on a new backend session').toMatchObject({ count: 1 });

    proxy.proxy.configure({ replayInFlight: 'none' });
    const second = pods.find((p) => p.address === ofType(proxy.events, 'recovery.done')[0]!.toPod)!;
    second.pause();
    expect((await rpcError(client.ping())).code).toBe(UNKNOWN_OUTCOME);
    expect(ofType(proxy.events, 'inflight.ended').filter((e) => e.rpcMethod !== null).map((e) => [e.rpcMethod, e.outcome])).toEqual([
      ['tools/call counter', 'replayed'], ['ping', 'unknown-outcome'],
    ]);
    await client.close();
  });

  it('a call whose pod stops answering after its SSE answer began is replayed into the same stream', async () => {
    const { pods, proxy } = await lab(2);
    const { client, transport } = await connectClient(proxy.url);
    const pinned = podOf(pods, proxy, transport.sessionId!);
    await client.listTools();
    const latch = `latch-${Date.now()}`;
    const progress: string[] = [];
    // The tool waits after its first progress notification until its latch opens. On the first
    // pod the test pauses the pod instead; on the pod the call is replayed on, it opens the latch.
    const result = await client.callTool({ name: 'slow', arguments: { steps: 2, delayMs: 10, waitFor: latch } }, undefined, {
      onprogress: ({ progress: step, message }) => {
        progress.push(`${step} ${message}`);
        const on = pods.find((p) => message?.endsWith(p.name))!;
        if (on === pinned) on.pause();
        else if (step === 1) void request(`http://127.0.0.1:${on.port}/latch/${latch}`, { method: 'POST' }).then((r) => r.body.dump());
      },
    });
    expect(result.isError).toBeFalsy();
    expect((result.structuredContent as { pod: string }).pod).not.toBe(pinned.name);
    expect(progress[0]).toBe(`1 step 1 of 2 on ${pinned.name}`);
    expect(progress.slice(1)).toEqual([expect.stringMatching(/^1 step 1 of 2 on pod-/), expect.stringMatching(/^2 step 2 of 2 on pod-/)]);
    expect(ofType(proxy.events, 'inflight.ended').filter((e) => e.rpcMethod === 'tools/call slow')).toMatchObject([{ outcome: 'replayed' }]);
    await client.close();
  });

  it('a slow pod that answers its probes is never cut: a call of many probe periods succeeds, with and without progress', async () => {
    const { proxy } = await lab(1);
    const { client } = await connectClient(proxy.url);
    await client.listTools();
    // 8 steps 400 ms apart: 2.8 s, seven times the 0.4 s it takes to find a pod unhealthy.
    const args = { steps: 8, delayMs: 400 };
    const seen: number[] = [];
    const [quiet, chatty] = await Promise.all([
      client.callTool({ name: 'slow', arguments: args }),
      client.callTool({ name: 'slow', arguments: args }, undefined, { onprogress: (p) => seen.push(p.progress) }),
    ]);
    expect(quiet.isError).toBeFalsy();
    expect(chatty.isError).toBeFalsy();
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(ofType(proxy.events, 'pod.health')).toEqual([]);
    expect(ofType(proxy.events, 'inflight.ended')).toEqual([]);
    await client.close();
  });

  it('an unhealthy pod gets no new sessions, and is healthy again after one answered probe', async () => {
    const { pods, proxy } = await lab(2);
    const [hung, well] = pods as [typeof pods[0], typeof pods[0]];
    hung.pause();
    await until('the paused pod to be found unhealthy', () => ofType(proxy.events, 'pod.health').some((e) => e.pod === hung.address && e.health === 'unhealthy'));
    const ids = await Promise.all(Array.from({ length: 4 }, () => rawSession(proxy.url)));
    expect(ids.map((id) => podOf(pods, proxy, id).name)).toEqual([well.name, well.name, well.name, well.name]);

    hung.resume();
    await until('the pod to be healthy again', () => ofType(proxy.events, 'pod.health').some((e) => e.pod === hung.address && e.health === 'healthy'));
    expect(proxy.proxy.podHealth()).toContainEqual({ pod: hung.address, healthy: true, failures: 0 });
    expect((await hung.stats()).probes, 'the probes reached it').toBeGreaterThan(0);
  });

  it('when no pod passes its probes (a starved machine), new sessions still reach the pods instead of none', async () => {
    const { pods, proxy } = await lab(2);
    const fronts = await Promise.all(pods.map(deafToProbes));
    proxy.proxy.setBackends(fronts.map((f) => f.url));
    await until('every pod to be found unhealthy', () => fronts.every((f) => ofType(proxy.events, 'pod.health').some((e) => e.pod === f.address && e.health === 'unhealthy')));

    const { client, transport } = await connectClient(proxy.url);
    expect(transport.sessionId).toBeTruthy();
    expect(await call<WhoAmI>(client, 'whoami')).toMatchObject({ pod: expect.stringMatching(/^pod-/) });
    expect(fronts.map((f) => f.address)).toContain(ofType(proxy.events, 'session.created')[0]?.pod);
    await client.close();
  });

  it('--upstream-timeout is a backstop: a call still unanswered after it is ended as "may or may not have run"; GET streams are not', async () => {
    const { proxy } = await lab(1, { ...FAST, upstreamTimeoutMs: 600 });
    const { client } = await connectClient(proxy.url);
    const error = await rpcError(client.callTool({ name: 'slow', arguments: { steps: 3, delayMs: 1000 } }));
    expect(error.code).toBe(UNKNOWN_OUTCOME);
    expect(error.message).toMatch(/within 600 ms \(--upstream-timeout\).*may or may not have run/);
    expect(ofType(proxy.events, 'inflight.ended')).toMatchObject([{ rpcMethod: 'tools/call slow', reason: 'upstream-timeout', outcome: 'unknown-outcome' }]);
    expect(ofType(proxy.events, 'recovery.started'), 'the pod is healthy: nothing to recover').toEqual([]);
    expect(await call(client, 'counter'), 'the session goes on').toMatchObject({ count: 1 });
    await client.close();
  });
});

/** A pod behind a front that never answers OPTIONS: every probe of it times out while it serves MCP. */
async function deafToProbes(pod: TestPod): Promise<{ url: string; address: string }> {
  const front = createServer((req, res) => {
    if (req.method === 'OPTIONS') return; // never answered
    const out = httpRequest({ host: '127.0.0.1', port: pod.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.once('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => {
    front.closeAllConnections();
    front.close(resolve);
  }));
  const address = `127.0.0.1:${(front.address() as AddressInfo).port}`;
  return { url: `http://${address}/mcp`, address };
}
