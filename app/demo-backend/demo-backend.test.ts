import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../proxy-core/test/processes.ts';
import { startRedis, type TestRedis } from '../../proxy-core/test/redis.ts';
import { freePort } from '../net/free-port.ts';
import { MemoryCarts, RedisCarts, type CartStore } from './carts.ts';
import { createDemoBackend, type DemoBackendStats } from './server.ts';

// The demo backend in this process (its HTTP on loopback), spoken to by the SDK's own clients:
// v1 for the legacy era, v2 pinned to 2026-07-28 for the modern one.
const MODERN = { versionNegotiation: { mode: { pin: '2026-07-28' } } };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.close();
});

async function pod(name: string, carts: CartStore = new MemoryCarts()): Promise<{ url: string; stats: () => DemoBackendStats }> {
  const { server, stats } = createDemoBackend({ pod: name, carts });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await carts.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, stats };
}

async function modernClient(url: string) {
  const transport = new ModernTransport(new URL(url));
  const client = new ModernClient({ name: 'test-modern', version: '0' }, MODERN);
  await client.connect(transport);
  cleanups.push(() => client.close());
  return { client, transport };
}

type Structured = { handle: string; items: string[]; mintedOn: string; pod: string };
const structured = (result: { structuredContent?: unknown }) => result.structuredContent as Structured;
const text = (result: { content?: unknown }) => (result.content as { text?: string }[]).map((block) => block.text).join(' ');

describe('the demo backend speaks both eras on one endpoint', () => {
  it('serves a legacy session (v1 client, initialize) and a modern client (v2, 2026-07-28, no session) side by side', async () => {
    const { url, stats } = await pod('pod-1');

    const legacyTransport = new LegacyTransport(new URL(url));
    const legacy = new LegacyClient({ name: 'test-legacy', version: '0' });
    await legacy.connect(legacyTransport);
    cleanups.push(() => legacy.close());
    expect(legacyTransport.sessionId, 'a legacy client gets a session').toMatch(/^[0-9a-f-]{36}$/);
    expect((await legacy.listTools()).tools.map((t) => t.name), 'the legacy era\'s tools, exactly as before').toEqual(['whoami', 'counter', 'echo', 'slow']);
    expect((await legacy.callTool({ name: 'whoami', arguments: {} })).structuredContent).toEqual({ pod: 'pod-1', session: legacyTransport.sessionId });
    await legacy.callTool({ name: 'counter', arguments: {} });
    expect((await legacy.callTool({ name: 'counter', arguments: {} })).structuredContent).toMatchObject({ count: 2 });

    const { client: modern, transport: modernTransport } = await modernClient(url);
    expect(modernTransport.sessionId, 'no session in 2026-07-28').toBeUndefined();
    expect(modern.getServerVersion()).toMatchObject({ name: 'pinlab-demo' });
    expect((await modern.listTools()).tools.map((t) => t.name)).toEqual(['whoami', 'counter', 'echo', 'slow', 'cart.create', 'cart.add', 'cart.get']);
    expect((await modern.callTool({ name: 'whoami', arguments: {} })).structuredContent).toEqual({ pod: 'pod-1', session: null });
    expect(stats().last?.headers, 'what the v2 client sent').toMatchObject({ 'mcp-method': 'tools/call', 'mcp-name': 'whoami', 'mcp-protocol-version': '2026-07-28' });
    expect(stats().last?.headers).not.toHaveProperty('mcp-session-id');

    // The legacy session is untouched by the modern traffic beside it.
    expect((await legacy.callTool({ name: 'counter', arguments: {} })).structuredContent).toMatchObject({ count: 3 });
    expect(stats()).toMatchObject({ sessions: 1, initializes: 1, carts: 'memory' });
    expect(stats().modern, 'server/discover, tools/list and the call went the modern way').toBeGreaterThanOrEqual(3);
  });

  it('refuses a modern request whose Mcp-Name disagrees with its body (400, JSON-RPC -32020), and runs nothing', async () => {
    const { url } = await pod('pod-1');
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '0' }, 'io.modelcontextprotocol/clientCapabilities': {} };
    const answer = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json', accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'cart.get',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'cart.create', arguments: {}, _meta: meta } }),
    });
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({ id: 7, error: { code: -32020, message: expect.stringMatching(/Mcp-Name/) } });
  });

  it('memory carts: a handle minted on one pod is "unknown cart" on another, and works on its own', async () => {
    const [one, two] = await Promise.all([pod('pod-1'), pod('pod-2')]);
    const [a, b] = await Promise.all([modernClient(one.url), modernClient(two.url)]);
    const cart = structured(await a.client.callTool({ name: 'cart.create', arguments: {} }));
    expect(cart).toMatchObject({ handle: expect.stringMatching(/^[0-9a-f]{32}$/), items: [], mintedOn: 'pod-1' });

    expect(structured(await a.client.callTool({ name: 'cart.add', arguments: { handle: cart.handle, item: 'apple' } })).items).toEqual(['apple']);
    const elsewhere = await b.client.callTool({ name: 'cart.add', arguments: { handle: cart.handle, item: 'pear' } });
    expect(elsewhere.isError).toBe(true);
    expect(text(elsewhere)).toBe(`unknown cart ${cart.handle} on pod-2: carts live in each pod's memory, and pod-2 never minted it`);
    expect(structured(await a.client.callTool({ name: 'cart.get', arguments: { handle: cart.handle } })).items).toEqual(['apple']);
  });

  it('Redis carts: the same handle works on every pod, and an unknown one is still refused', async () => {
    const [one, two] = await Promise.all([pod('pod-1', await RedisCarts.connect(redis.url)), pod('pod-2', await RedisCarts.connect(redis.url))]);
    const [a, b] = await Promise.all([modernClient(one.url), modernClient(two.url)]);
    const cart = structured(await a.client.callTool({ name: 'cart.create', arguments: {} }));
    await a.client.callTool({ name: 'cart.add', arguments: { handle: cart.handle, item: 'apple' } });
    const added = structured(await b.client.callTool({ name: 'cart.add', arguments: { handle: cart.handle, item: 'pear' } }));
    expect(added).toEqual({ handle: cart.handle, items: ['apple', 'pear'], mintedOn: 'pod-1', pod: 'pod-2' });
    expect(structured(await a.client.callTool({ name: 'cart.get', arguments: { handle: cart.handle } })).items).toEqual(['apple', 'pear']);
    expect(one.stats().carts).toBe('redis');

    const unknown = await b.client.callTool({ name: 'cart.get', arguments: { handle: 'f'.repeat(32) } });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toMatch(/^unknown cart f{32} on pod-2: it is not in the shared store/);
    expect(await redis.client.exists(`pinlab-demo:cart:${'f'.repeat(32)}`), 'an unknown handle creates nothing').toBe(0);
  });

  it('Redis carts keep the minting pod and the last 100 items of a long cart', async () => {
    const carts = await RedisCarts.connect(redis.url);
    cleanups.push(() => carts.close());
    const cart = await carts.create('pod-9');
    for (let i = 1; i <= 105; i++) await carts.add(cart.handle, `item-${i}`);
    const kept = await carts.get(cart.handle);
    expect(kept?.mintedOn).toBe('pod-9');
    expect(kept?.items).toHaveLength(100);
    expect(kept?.items[0]).toBe('item-6');
    expect(kept?.items.at(-1)).toBe('item-105');
  });
});

describe('pinlab-demo-backend: its cart flags', () => {
  function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['app/demo-backend/main.ts', '--port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += String(chunk)));
      child.on('exit', (code) => resolve({ code, stderr }));
    });
  }

  it('--carts redis without a Redis URL, a URL that is not one, or a Redis that does not answer: a clear error, no server', async () => {
    expect(await run(['--carts', 'redis'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--carts redis needs --redis-url/) });
    expect(await run(['--carts', 'redis', '--redis-url', 'http://x'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/expected a redis:\/\/ or rediss:\/\/ URL, got "http:\/\/x"/) });
    const nobody = await freePort();
    expect(await run(['--carts', 'redis', '--redis-url', `redis://127.0.0.1:${nobody}`]))
      .toMatchObject({ code: 1, stderr: expect.stringMatching(new RegExp(`cannot reach the carts' Redis at redis://127.0.0.1:${nobody}`)) });
    expect(await run(['--carts', 'disk'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/Allowed choices are memory, redis/) });
  });
});
