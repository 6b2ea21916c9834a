import type { ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killChild, spawnNode } from '../../proxy-core/test/processes.ts';
import { freePort } from '../net/free-port.ts';
import { identifyServer, unidentified } from './identify.ts';
import { sourceOf } from './source.ts';

const EVERYTHING = 'node_modules/@modelcontextprotocol/server-everything/dist/index.js';
const STATELESS = 'app/server/fixtures/stateless-server.ts';

const children: ChildProcess[] = [];
const urls: Record<'demo' | 'everything' | 'stateless', string> = { demo: '', everything: '', stateless: '' };

beforeAll(async () => {
  const [demo, everything, stateless] = await Promise.all([freePort(), freePort(), freePort()]);
  const started = await Promise.all([
    spawnNode('app/demo-backend/main.ts', ['--port', String(demo), '--pod', 'pod-1'], /listening/),
    spawnNode(EVERYTHING, ['streamableHttp'], /listening on port/, { PORT: String(everything) }),
    spawnNode(STATELESS, [], /stateless MCP fixture/, { PORT: String(stateless) }),
  ]);
  children.push(...started.map((s) => s.child));
  urls.demo = `http://127.0.0.1:${demo}/mcp`;
  urls.everything = `http://127.0.0.1:${everything}/mcp`;
  urls.stateless = `http://127.0.0.1:${stateless}/mcp`;
});

afterAll(async () => {
  await Promise.all(children.map((child) => killChild(child)));
});

describe('identifyServer', () => {
  it('reads the demo backend: its name, version, protocol, sessions and tools (counter among them), and closes its session', async () => {
    const server = await identifyServer(urls.demo, { kind: 'demo' });
    const health = (await (await fetch(urls.demo.replace('/mcp', '/healthz'))).json()) as { sessions: number; initializes: number };
    expect(health).toMatchObject({ initializes: 1, sessions: 0 });
    expect(server).toMatchObject({
      kind: 'demo', source: 'the Pinlab demo backend', digest: null, name: 'pinlab-demo', version: '0.1.0', sessions: true, error: null,
    });
    expect(server.protocolVersion).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(server.tools.map((t) => t.name)).toEqual(['whoami', 'counter', 'echo', 'slow']);
    expect(server.tools.find((t) => t.name === 'echo')!.inputSchema).toMatchObject({ type: 'object', required: ['text'] });
  });

  it('reads the reference server (server-everything) run as a command', async () => {
    const backend = { kind: 'command' as const, command: 'node', args: [EVERYTHING, 'streamableHttp'], portEnv: 'PORT', path: '/mcp' };
    const server = await identifyServer(urls.everything, backend);
    expect(server).toMatchObject({ kind: 'command', source: `command node ${EVERYTHING} streamableHttp`, name: 'mcp-servers/everything', sessions: true, error: null });
    expect(server.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(server.tools.length).toBeGreaterThan(5);
    expect(server.tools.find((t) => t.name === 'echo')).toMatchObject({
      inputSchema: { properties: { message: { type: 'string' } }, required: ['message'] },
      annotations: { readOnlyHint: true },
    });
  });

  it('tells a stateless server: initialize answered without Mcp-Session-Id', async () => {
    const server = await identifyServer(urls.stateless, { kind: 'command', command: 'node', args: [STATELESS], portEnv: 'PORT', path: '/mcp' });
    expect(server).toMatchObject({ name: 'pinlab-stateless-fixture', version: '1.2.3', sessions: false, error: null });
    expect(server.tools.map((t) => t.name)).toEqual(['add', 'pod']);
  });

  it('says why when nothing answers, and never throws', async () => {
    const port = await freePort();
    const server = await identifyServer(`http://127.0.0.1:${port}/mcp`, { kind: 'image', image: 'me/server:1', port: 8000, path: '/mcp' }, { digest: 'sha256:abc' });
    expect(server).toMatchObject({ kind: 'image', source: 'image me/server:1', digest: 'sha256:abc', name: null, sessions: null, tools: [] });
    expect(server.error).toMatch(new RegExp(`^initialize at http://127.0.0.1:${port}/mcp failed: `));
  });

  it('gives up on a pod that accepts connections but never answers', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const server = await identifyServer(`http://127.0.0.1:${port}/mcp`, { kind: 'demo' }, { timeoutMs: 300 });
      expect(server).toMatchObject({ name: null, sessions: null, tools: [] });
      expect(server.error).toMatch(/^initialize at .* failed: .*timed out/i);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('an unidentified server still says how it runs', () => {
    expect(unidentified({ kind: 'demo' }, 'no pod was ready to ask')).toMatchObject({ source: 'the Pinlab demo backend', error: 'no pod was ready to ask', tools: [] });
    expect(sourceOf({ kind: 'command', command: 'python', args: ['-m', 'my server'], portEnv: 'PORT', path: '/mcp' })).toBe("command python -m 'my server'");
  });
});
