import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProxyConfig } from './config.ts';
import { HEADER_MISMATCH } from './mcp-headers.ts';
import { SESSION_NOT_FOUND } from './jsonrpc.ts';
import { answerOf, MCP_HEADERS, rawCall, rawRequest, rawSession } from './test/client.ts';
import { ofType, podOf, startLab } from './test/lab.ts';

const MODERN = '2026-07-28';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

async function lab(podCount: number, replica: Partial<ProxyConfig> = {}) {
  const started = await startLab(podCount, 1, { replica });
  cleanups.push(() => started.close());
  return { ...started, proxy: started.replicas[0]! };
}

/** Redis commands served so far, by name (INFO itself left out). */
async function commandCounts(client: { info(section: string): Promise<string> }): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const [, name, calls] of (await client.info('commandstats')).matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
    if (name !== 'info') counts.set(name!, Number(calls));
  }
  return counts;
}

/** The v2 SDK client pinned to 2026-07-28, noting the pod that named itself on each answer (the demo's `x-pinlab-pod`). */
async function modernClient(url: string): Promise<{ client: ModernClient; answeredBy: string[] }> {
  const answeredBy: string[] = [];
  const fetchNoting = async (input: string | URL, init?: RequestInit) => {
    const response = await fetch(input, init);
    const pod = response.headers.get('x-pinlab-pod');
    if (init?.method === 'POST' && pod) answeredBy.push(pod);
    return response;
  };
  const client = new ModernClient({ name: 'modern-test', version: '0.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
  await client.connect(new ModernTransport(new URL(url), { fetch: fetchNoting }));
  return { client, answeredBy };
}

/** A modern request as the v2 SDK sends one: the revision in a header and in `_meta`, its method (and name) in headers. */
function modernRequest(url: string, message: { method: string; params?: Record<string, unknown> }, headers: Record<string, string>) {
  const meta = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} };
  return rawRequest(url, null, { id: 7, method: message.method, params: { ...message.params, _meta: meta } }, { 'mcp-protocol-version': MODERN, ...headers });
}

const sorted = (values: string[]) => [...values].sort();

describe('modern (2026-07-28) requests through the proxy', () => {
  it('go through the service with no store access, and each routed event names the pod that served it, with its Mcp-Method and Mcp-Name', async () => {
    const { pods, proxy, redis } = await lab(3);
    const before = await commandCounts(redis.client);
    const { client, answeredBy } = await modernClient(proxy.url);
    // At once: the service opens several connections, each to the pod it picks when dialling.
    await Promise.all(Array.from({ length: 9 }, () => client.callTool({ name: 'whoami', arguments: {} })));
    await client.listTools(undefined, { cacheMode: 'bypass' });
    await client.close();
    const used = [...(await commandCounts(redis.client))].filter(([name, calls]) => calls > (before.get(name) ?? 0));
    expect(used, 'server/discover, 9 calls and tools/list: no Redis command').toEqual([]);

    const routed = ofType(proxy.events, 'request.routed').filter((e) => e.era === 'modern');
    expect(routed.map((e) => e.mcpMethod)).toEqual(expect.arrayContaining(['server/discover', 'tools/call', 'tools/list']));
    const calls = routed.filter((e) => e.mcpMethod === 'tools/call');
    expect(calls).toHaveLength(9);
    expect(calls.every((e) => e.mcpName === 'whoami' && e.sessionId === null && e.status === 200)).toBe(true);
    // The pods' own word on who answered, against the proxy's: the same pods, as many times each.
    const addressOf = new Map(pods.map((p) => [p.name, p.address]));
    expect(sorted(routed.map((e) => e.pod!)), 'every modern request is put on the pod that answered it').toEqual(sorted(answeredBy.map((name) => addressOf.get(name)!)));
    expect(new Set(calls.map((e) => e.pod)).size, 'concurrent calls spread over several pods').toBeGreaterThan(1);
  });

  it('a legacy session\'s requests carry no era, method or name: those stay the modern era\'s', async () => {
    const { pods, proxy } = await lab(2);
    const id = await rawSession(proxy.url);
    expect((await rawCall(proxy.url, id, 'whoami')).status).toBe(200);
    const routed = ofType(proxy.events, 'request.routed');
    expect(routed.length).toBeGreaterThan(0);
    expect(routed.some((e) => 'era' in e || 'mcpMethod' in e || 'mcpName' in e)).toBe(false);
    expect(routed.at(-1)!.pod).toBe(podOf(pods, proxy, id).address);
  });

  it('a header that disagrees with the body is answered 400 with JSON-RPC -32020, as the v2 SDK server does, and no pod is asked', async () => {
    const { pods, proxy } = await lab(2);
    const modernBefore = (await Promise.all(pods.map((p) => p.stats()))).reduce((n, s) => n + s.modern, 0);

    const method = await modernRequest(proxy.url, { method: 'tools/call', params: { name: 'whoami', arguments: {} } }, { 'mcp-method': 'tools/list', 'mcp-name': 'whoami' });
    expect(method.status).toBe(400);
    expect(answerOf(method.body)).toEqual({
      jsonrpc: '2.0', id: 7,
      error: {
        code: HEADER_MISMATCH, message: 'Bad Request: the request headers and body disagree: the body names method tools/call but the Mcp-Method header names tools/list',
        data: { mismatch: { header: 'tools/list', body: 'tools/call' } },
      },
    });
    const name = await modernRequest(proxy.url, { method: 'tools/call', params: { name: 'whoami', arguments: {} } }, { 'mcp-method': 'tools/call', 'mcp-name': 'counter' });
    expect(name.status).toBe(400);
    expect(answerOf(name.body).error).toMatchObject({ code: HEADER_MISMATCH, message: expect.stringMatching(/params\.name="whoami" but the Mcp-Name header names "counter"/) });
    const uri = await modernRequest(proxy.url, { method: 'resources/read', params: { uri: 'pinlab://a' } }, { 'mcp-method': 'resources/read', 'mcp-name': '=?base64?cGlubGFiOi8vYg==?=' });
    expect(answerOf(uri.body).error).toMatchObject({ code: HEADER_MISMATCH, message: expect.stringMatching(/params\.uri="pinlab:\/\/a" but the Mcp-Name header names "pinlab:\/\/b"/) });
    const modernAfterMismatches = (await Promise.all(pods.map((p) => p.stats()))).reduce((n, s) => n + s.modern, 0);
    expect(modernAfterMismatches, 'no pod saw a mismatched request').toBe(modernBefore);
    expect(ofType(proxy.events, 'request.routed').slice(-3).map((e) => [e.status, e.pod, e.era, e.mcpMethod])).toEqual([
      [400, null, 'modern', 'tools/list'], [400, null, 'modern', 'tools/call'], [400, null, 'modern', 'resources/read'],
    ]);

    // Headers that agree (the name Base64-encoded, as clients may send it) go on to a pod.
    const agreed = await modernRequest(proxy.url, { method: 'tools/call', params: { name: 'whoami', arguments: {} } }, { 'mcp-method': 'tools/call', 'mcp-name': '=?base64?d2hvYW1p?=' });
    expect(agreed.status).toBe(200);
    expect(answerOf(agreed.body).result).toMatchObject({ structuredContent: { pod: expect.stringMatching(/^pod-\d$/) } });
    expect((await Promise.all(pods.map((p) => p.stats()))).reduce((n, s) => n + s.modern, 0)).toBe(modernBefore + 1);
  });

  it('metrics count requests by MCP method: known methods by name, anything else as "other", legacy requests as "none"', async () => {
    const { proxy } = await lab(1, { metricsPort: 0 });
    const { client } = await modernClient(proxy.url);
    await client.callTool({ name: 'whoami', arguments: {} });
    await client.close();
    const junk = await modernRequest(proxy.url, { method: 'x/junk-1' }, { 'mcp-method': 'x/junk-1' });
    expect(junk.status, 'the pod answers a method it does not know').toBeLessThan(500);
    await modernRequest(proxy.url, { method: 'x/junk-2' }, { 'mcp-method': 'x/junk-2' });
    await rawSession(proxy.url);

    const port = (proxy.metricsServer!.address() as { port: number }).port;
    const metrics = await (await request(`http://127.0.0.1:${port}/metrics`)).body.text();
    expect(metrics).toMatch(/pinlab_proxy_requests_total\{method="POST",status="200",mcp_method="tools\/call"\} 1\n/);
    expect(metrics).toMatch(/pinlab_proxy_requests_total\{method="POST",status="200",mcp_method="server\/discover"\} 1\n/);
    expect(metrics).toMatch(/pinlab_proxy_requests_total\{method="POST",status="\d+",mcp_method="other"\} 2\n/);
    expect(metrics).toMatch(/pinlab_proxy_requests_total\{method="POST",status="200",mcp_method="none"\} 1\n/);
    expect(metrics).not.toMatch(/junk/);
  });
});

describe('recovery off, and the session\'s pod is gone', () => {
  it('answers 404 "session not found" and drops the record, so that the client starts over on a live pod', async () => {
    const { pods, proxy, redis } = await lab(2, { recovery: false });
    const id = await rawSession(proxy.url);
    const pinned = podOf(pods, proxy, id);
    await pinned.kill();

    const answer = await rawCall(proxy.url, id, 'whoami', 3);
    expect(answer.status).toBe(404);
    expect(answerOf(answer.body)).toEqual({ jsonrpc: '2.0', id: 3, error: { code: SESSION_NOT_FOUND, message: 'Session not found' } });
    expect(await redis.client.exists(`pinlab:session:${id}`), 'the record is gone').toBe(0);
    expect(ofType(proxy.events, 'session.deleted')).toMatchObject([{ sessionId: id, pod: pinned.address, podStatus: null, podGone: 'connect-refused' }]);
    expect(ofType(proxy.events, 'recovery.started')).toEqual([]);

    expect((await rawCall(proxy.url, id, 'whoami', 4)).status, 'still unknown: not a 502 on every request').toBe(404);
    const fresh = await rawSession(proxy.url);
    const again = await rawCall(proxy.url, fresh, 'whoami', 5);
    expect(again.status, 'a new session works').toBe(200);
    expect(podOf(pods, proxy, fresh)).not.toBe(pinned);
  });

  it('a GET stream asked of the lost session is told 404 too', async () => {
    const { pods, proxy } = await lab(2, { recovery: false });
    const id = await rawSession(proxy.url);
    await podOf(pods, proxy, id).kill();
    const stream = await request(proxy.url, { method: 'GET', headers: { ...MCP_HEADERS, accept: 'text/event-stream', 'mcp-session-id': id } });
    await stream.body.dump();
    expect(stream.statusCode).toBe(404);
  });
});
