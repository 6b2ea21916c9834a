import { request as httpRequest } from 'node:http';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProxyConfig } from './config.ts';
import { UNKNOWN_OUTCOME } from './jsonrpc.ts';
import { sessionTag } from './session/id.ts';
import { answerOf, call, connectClient, MCP_HEADERS, rawCall, rawRequest, rawSession } from './test/client.ts';
import { ofType, podOf, startLab, until } from './test/lab.ts';
import type { PodOptions } from './test/pods.ts';
import { spawnReplica } from './test/replicas.ts';

type WhoAmI = { pod: string; session: string };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

async function lab(podCount: number, options: { pods?: PodOptions; replica?: Partial<ProxyConfig> } = {}) {
  const started = await startLab(podCount, 1, options);
  cleanups.push(() => started.close());
  return { ...started, proxy: started.replicas[0]! };
}

const INIT = { id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'edges', version: '0' } } };

/** Redis commands served so far, by name (INFO itself left out). */
async function commandCounts(client: { info(section: string): Promise<string> }): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const [, name, calls] of (await client.info('commandstats')).matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
    if (name !== 'info') counts.set(name!, Number(calls));
  }
  return counts;
}

describe('the edges of proxying', () => {
  it('JSON-RPC -32001 "Request timed out" is the call\'s answer, not a lost session: relayed, nothing re-initialized', async () => {
    const { proxy } = await lab(1, { pods: { jsonResponse: true } });
    const { client } = await connectClient(proxy.url);
    const before = await call<WhoAmI>(client, 'whoami');
    const error = await client.readResource({ uri: 'pinlab://upstream-timeout' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect(error).toMatchObject({ code: -32001, message: expect.stringMatching(/Request timed out/) });
    expect(ofType(proxy.events, 'recovery.started')).toEqual([]);
    expect((await call<WhoAmI>(client, 'whoami')).session, 'the same backend session').toBe(before.session);
    await client.close();
  });

  it('a reset after the request was written: a safe call is retried once on a fresh connection, another is answered "may or may not have run"; neither recovers', async () => {
    const { pods: [pod], proxy } = await lab(1);
    const id = await rawSession(proxy.url);
    expect((await rawRequest(proxy.url, id, { id: 1, method: 'tools/list' })).status).toBe(200);
    const before = answerOf((await rawCall(proxy.url, id, 'whoami', 2)).body);

    await pod!.resetNext();
    const retried = await rawCall(proxy.url, id, 'whoami', 3);
    expect(retried.status).toBe(200);
    expect(answerOf(retried.body).result, 'answered by the same backend session').toEqual(before.result);

    await pod!.resetNext();
    const unsafe = answerOf((await rawCall(proxy.url, id, 'counter', 4)).body);
    expect(unsafe).toMatchObject({ id: 4, error: { code: UNKNOWN_OUTCOME, message: expect.stringMatching(/closed the connection after the request was sent.*may or may not have run/) } });
    expect(answerOf((await rawCall(proxy.url, id, 'counter', 5)).body).result, 'the session goes on where it was').toMatchObject({ structuredContent: { count: 1 } });

    expect(ofType(proxy.events, 'recovery.started')).toEqual([]);
    expect(ofType(proxy.events, 'inflight.ended').map((e) => [e.rpcMethod, e.reason, e.outcome])).toEqual([
      ['tools/call whoami', 'reset-after-write', 'retried'], ['tools/call counter', 'reset-after-write', 'unknown-outcome'],
    ]);
  });

  it('a safe call whose retry is reset too (a published port of a dead container): replayed on a recovered session, no error', async () => {
    const { pods, proxy } = await lab(2);
    const id = await rawSession(proxy.url);
    const pinned = podOf(pods, proxy, id);
    // tools/list through the proxy tells it whoami is read-only, so safe to send again.
    expect((await rawRequest(proxy.url, id, { id: 0, method: 'tools/list' })).status).toBe(200);
    await pinned.resetNext();
    await pinned.resetNext();
    const answer = answerOf((await rawCall(proxy.url, id, 'whoami', 1)).body) as { result?: { structuredContent?: WhoAmI } };
    expect(answer.result?.structuredContent?.pod, 'answered by the other pod').not.toBe(pinned.name);
    expect(ofType(proxy.events, 'recovery.started').map((e) => e.cause)).toEqual(['connect-reset']);
    expect(ofType(proxy.events, 'inflight.ended').map((e) => [e.reason, e.outcome])).toEqual([['reset-after-write', 'retried'], ['reset-after-write', 'replayed']]);
  });

  it('a client that goes away while its request waits on a recovery: nothing is sent for it, and the session\'s GET stream slot stays free', async () => {
    const { pods, proxy, redis } = await lab(2);
    const id = await rawSession(proxy.url);
    await podOf(pods, proxy, id).kill();
    // Another replica, as far as this one can tell, is recovering the session: this one waits.
    await redis.client.set(`pinlab:recovery:${id}`, 'another-replica#1', 'PX', 10_000);
    const headers = { accept: 'text/event-stream', 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' };
    const gone = new AbortController();
    const abandoned = request(proxy.url, { method: 'GET', headers, signal: gone.signal }).catch(() => 'aborted');
    await until('the recovery to wait on the lock', () => ofType(proxy.events, 'recovery.started').length === 1);
    gone.abort();
    expect(await abandoned).toBe('aborted');
    await redis.client.del(`pinlab:recovery:${id}`); // the other replica gave up: this one re-initializes
    await until('the recovery to finish', () => ofType(proxy.events, 'recovery.done').length === 1);

    const stream = await request(proxy.url, { method: 'GET', headers });
    expect(stream.statusCode, 'not 409: no stream was opened for the client that left').toBe(200);
    stream.body.destroy();
    expect(ofType(proxy.events, 'request.routed').filter((e) => e.httpMethod === 'GET').map((e) => e.status)).toEqual([200]);
  });

  it('query strings reach the pod unchanged', async () => {
    const { pods: [pod], proxy } = await lab(1);
    const query = '?tenant=a&x=%20y';
    const id = await rawSession(proxy.url + query);
    expect((await pod!.stats()).last?.url).toBe(`/mcp${query}`);
    await rawCall(proxy.url + '?tenant=b', id, 'whoami');
    expect((await pod!.stats()).last?.url).toBe('/mcp?tenant=b');
    await rawCall(proxy.url + '?tenant=c', null, 'whoami');
    expect((await pod!.stats()).last?.url, 'sessionless traffic too').toBe('/mcp?tenant=c');
  });

  it('an initialize hidden behind a JSON escape is still an initialize: the client gets a minted id, never the pod\'s', async () => {
    const { proxy, redis } = await lab(1);
    const body = JSON.stringify({ jsonrpc: '2.0', ...INIT }).replace('"initialize"', '"\\u0069nitialize"');
    const answer = await request(proxy.url, { method: 'POST', headers: MCP_HEADERS, body });
    await answer.body.dump();
    const id = answer.headers['mcp-session-id'] as string;
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const record = JSON.parse((await redis.client.get(`pinlab:session:${id}`))!);
    expect(record.backendSessionId).not.toBe(id);
  });

  it('a batch initialize: only the initialize message is stored for replay, and it replays', async () => {
    const { pods, proxy, redis } = await lab(2);
    const init = { jsonrpc: '2.0', ...INIT };
    const answer = await request(proxy.url, { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify([init]) });
    await answer.body.dump();
    expect(answer.statusCode).toBe(200);
    const id = answer.headers['mcp-session-id'] as string;
    expect(JSON.parse((await redis.client.get(`pinlab:init:${id}`))!)).toEqual(init);
    await rawRequest(proxy.url, id, { method: 'notifications/initialized' });
    await podOf(pods, proxy, id).kill();
    expect((await rawCall(proxy.url, id, 'whoami')).status, 'recovered from the stored initialize').toBe(200);
    expect(ofType(proxy.events, 'recovery.done')).toHaveLength(1);
  });

  it('Last-Event-ID is not sent to the pod a request is replayed on after recovery, and the routed event says so', async () => {
    const { pods, proxy } = await lab(2);
    const id = await rawSession(proxy.url);
    await podOf(pods, proxy, id).kill();
    const stream = await request(proxy.url, {
      method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18', 'last-event-id': 'old-pod-event-7' },
    });
    expect(stream.statusCode).toBe(200);
    const newPod = pods.find((p) => p.address === ofType(proxy.events, 'recovery.done')[0]!.toPod)!;
    const seen = (await newPod.stats()).last!;
    expect(seen.method).toBe('GET');
    expect(seen.headers).not.toHaveProperty('last-event-id');
    expect(ofType(proxy.events, 'request.routed').find((e) => e.httpMethod === 'GET')).toMatchObject({ recovered: true, lastEventIdDropped: true });
    stream.body.destroy();
  });

  it('headers named in Connection are dropped; X-Forwarded-For and -Proto are appended to, not trusted', async () => {
    const { pods: [pod], proxy } = await lab(1);
    const id = await rawSession(proxy.url);
    const url = new URL(proxy.url);
    // node:http, not undici: undici refuses a Connection header that names other headers.
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest({
        host: url.hostname, port: url.port, path: url.pathname, method: 'POST',
        headers: {
          ...MCP_HEADERS, 'mcp-session-id': id, connection: 'keep-alive, X-Hop-Secret', 'x-hop-secret': 'for the proxy only',
          'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https',
        },
      }, (res) => res.resume().once('end', resolve));
      req.once('error', reject);
      req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }));
    });
    const { headers } = (await pod!.stats()).last!;
    expect(headers).not.toHaveProperty('x-hop-secret');
    expect(headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('https, http');
  });

  it('a follow-up reads a small record with one Redis command; the initialize is kept apart, and capped by --max-initialize', async () => {
    const { proxy, redis } = await lab(1, { replica: { maxInitialize: 4096 } });
    const id = await rawSession(proxy.url);
    const record = (await redis.client.get(`pinlab:session:${id}`))!;
    expect(JSON.parse(record)).not.toHaveProperty('initializeBody');
    expect(JSON.parse((await redis.client.get(`pinlab:init:${id}`))!)).toMatchObject({ method: 'initialize' });
    expect(await redis.client.ttl(`pinlab:init:${id}`)).toBeGreaterThan(await redis.client.ttl(`pinlab:session:${id}`));

    const before = await commandCounts(redis.client);
    for (let i = 0; i < 20; i++) expect((await rawCall(proxy.url, id, 'whoami', i)).status).toBe(200);
    const after = await commandCounts(redis.client);
    const used = [...after].map(([name, calls]) => [name, calls - (before.get(name) ?? 0)] as const).filter(([, n]) => n > 0);
    expect(used, '20 follow-ups: 20 GETEX, nothing else').toEqual([['getex', 20]]);

    const big = { ...INIT, params: { ...INIT.params, clientInfo: { name: 'x'.repeat(5000), version: '0' } } };
    const refused = await rawRequest(proxy.url, null, big);
    expect(refused.status).toBe(413);
    expect(answerOf(refused.body)).toMatchObject({ id: 0, error: { message: expect.stringMatching(/larger than 4096 bytes.*--max-initialize/) } });
  });

  it('--metrics-port serves /metrics apart from the MCP port', async () => {
    const { proxy } = await lab(1, { replica: { metricsPort: 0 } });
    const port = (proxy.metricsServer!.address() as { port: number }).port;
    const metrics = await request(`http://127.0.0.1:${port}/metrics`);
    expect(metrics.statusCode).toBe(200);
    const text = await metrics.body.text();
    expect(text).toMatch(/pinlab_proxy_info\{replica="replica-1",store="redis"\} 1/);
    // The process's own figures too — collected once per process, however many proxies it runs (the lab's replicas).
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    const onMcpPort = await request(new URL('/metrics', proxy.url));
    await onMcpPort.body.dump();
    expect(onMcpPort.statusCode).toBe(404);
  });

  it('logs never print a whole client session id, only its short hash', async () => {
    const { pods } = await lab(2);
    const replica = await spawnReplica({ backends: pods.map((p) => p.url), store: 'memory' });
    cleanups.push(() => replica.kill());
    const id = await rawSession(replica.url);
    await Promise.all(pods.map((p) => p.kill())); // recovery fails: recovery.started and .failed are logged
    await rawCall(replica.url, id, 'whoami');
    await until('the recovery to be logged', () => replica.output().includes('recovery.failed'));
    expect(replica.output()).toContain(sessionTag(id));
    expect(replica.output()).not.toContain(id);
  });
});
