import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, MCP_HEADERS, rawCall, rawSession } from './test/client.ts';
import { startPods, type TestPod } from './test/pods.ts';
import { startRedis, type TestRedis } from './test/redis.ts';
import { startReplica } from './test/replicas.ts';

describe('protocol edges', () => {
  let redis: TestRedis;
  let pods: TestPod[];
  let proxy: Awaited<ReturnType<typeof startReplica>>;
  let toolhive: Awaited<ReturnType<typeof startReplica>>;

  beforeAll(async () => {
    [redis, pods] = await Promise.all([startRedis(), startPods(2)]);
    const backends = pods.map((p) => p.url);
    proxy = await startReplica({ backends, store: 'redis', redisUrl: redis.url, maxBody: 64 * 1024 });
    toolhive = await startReplica({ backends, store: 'redis', redisUrl: redis.url, unknownSessionStatus: 400 });
  });
  afterAll(async () => {
    await Promise.all([proxy?.close(), toolhive?.close()]);
    await Promise.all([...(pods ?? []).map((p) => p.kill()), redis?.close()]);
  });

  it('an unknown session id gets 404 with a JSON-RPC error echoing the request id', async () => {
    const answer = await rawCall(proxy.url, 'AAAAAAAAAAAAAAAAAAAAAA', 'whoami', 42);
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toEqual({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: 42 });
    // A notification has no id: the reply has no id key.
    const note = await request(proxy.url, {
      method: 'POST', headers: { ...MCP_HEADERS, 'mcp-session-id': 'AAAAAAAAAAAAAAAAAAAAAA' },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    });
    expect(JSON.parse(await note.body.text())).toEqual({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' } });
    expect((await rawCall(toolhive.url, 'AAAAAAAAAAAAAAAAAAAAAA', 'whoami')).status, '--unknown-session-status 400').toBe(400);
  });

  it('a session id the proxy could not have minted never reaches the store', async () => {
    for (const id of ['*', '../../etc', 'x'.repeat(300), 'pinlab:session:*', 'a b']) {
      expect((await rawCall(proxy.url, id, 'whoami')).status).toBe(404);
    }
    const keys = await redis.client.keys('*');
    expect(keys.every((k) => k.startsWith('pinlab:'))).toBe(true);
  });

  it('a body over --max-body gets 413; malformed JSON that must be parsed gets 400', async () => {
    const big = await request(proxy.url, {
      method: 'POST', headers: MCP_HEADERS,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x'.repeat(70_000) } } }),
    });
    expect(big.statusCode).toBe(413);
    expect(await big.body.text()).toMatch(/larger than 65536 bytes/);

    const malformed = await request(proxy.url, { method: 'POST', headers: MCP_HEADERS, body: '{"method":"initialize",' });
    expect(malformed.statusCode).toBe(400);
    expect(JSON.parse(await malformed.body.text())).toMatchObject({ error: { code: -32700 } });
  });

  it('malformed JSON on a session is passed to the pod untouched', async () => {
    const id = await rawSession(proxy.url);
    const answer = await request(proxy.url, { method: 'POST', headers: { ...MCP_HEADERS, 'mcp-session-id': id }, body: '{not json' });
    const text = await answer.body.text();
    expect(answer.headers['x-pinlab-pod'], 'the pod answered').toMatch(/^pod-/);
    expect(text).toMatch(/parse error/i);
  });

  it('an initialize that carries a session header starts a new session (the header is dropped)', async () => {
    const old = await rawSession(proxy.url);
    const init = await request(proxy.url, {
      method: 'POST', headers: { ...MCP_HEADERS, 'mcp-session-id': old },
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '0' } } }),
    });
    await init.body.text();
    expect(init.statusCode).toBe(200);
    expect(init.headers['mcp-session-id']).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(init.headers['mcp-session-id']).not.toBe(old);
  });

  it('a request with no session that is not initialize goes through the service to a pod', async () => {
    const answer = await rawCall(proxy.url, null, 'whoami', 7);
    expect(answer.status).toBe(200);
    expect(answer.headers['mcp-session-id']).toBeUndefined();
    expect(answer.body).toMatch(/\\"pod\\":\\"pod-\d\\",\\"session\\":null/);
  });

  it('progress notifications reach the client while the tool is still running (SSE is streamed)', async () => {
    const { client } = await connectClient(proxy.url);
    const latch = `latch-${Date.now()}`;
    const seen: number[] = [];
    let podUrl: string | undefined;
    // The tool waits after its first progress notification until the latch is opened, and the
    // test opens it only on receiving that notification: buffered SSE would never get here.
    const result = await client.callTool({ name: 'slow', arguments: { steps: 3, delayMs: 10, waitFor: latch } }, undefined, {
      onprogress: (progress) => {
        seen.push(progress.progress);
        if (progress.progress === 1) {
          const pod = pods.find((p) => progress.message?.endsWith(p.name));
          podUrl = `http://127.0.0.1:${pod!.port}/latch/${latch}`;
          void request(podUrl, { method: 'POST' }).then((r) => r.body.dump());
        }
      },
    });
    expect(result.isError).toBeFalsy();
    expect(podUrl).toBeDefined();
    expect(seen).toEqual([1, 2, 3]);
    await client.close();
  });

  it('rewrites Mcp-Session-Id on answers and serves /healthz and /metrics', async () => {
    const id = await rawSession(proxy.url);
    const answer = await rawCall(proxy.url, id, 'whoami');
    expect(answer.body).not.toContain(id);
    const health = await request(new URL('/healthz', proxy.url));
    expect(await health.body.json()).toMatchObject({ status: 'ok', store: 'redis' });
    const metrics = await (await request(new URL('/metrics', proxy.url))).body.text();
    expect(metrics).toMatch(/pinlab_proxy_info\{replica="replica-1",store="redis"\} 1/);
    expect(metrics).toMatch(/pinlab_proxy_requests_total\{method="POST",status="200",mcp_method="none"\} \d+/);
    expect(metrics).toMatch(/pinlab_proxy_request_duration_seconds_bucket/);
    expect(metrics).toMatch(/pinlab_proxy_active_sessions [1-9]/);
  });
});
