import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { Latches } from './latches.ts';
import { createDemoMcpServer } from './tools.ts';

/**
 * How this pod says "I do not know that session" — real servers differ, and the proxy must
 * recognise each: `404` (the spec; plain-text body), `400` (a JSON-RPC error about an invalid
 * session id, as the SDK examples answer), `32001` (JSON-RPC -32001 "Session not found" in a 200).
 */
export type SessionLostStyle = '404' | '400' | '32001';

export interface DemoBackendOptions {
  /** The pod's name, reported by `whoami` and the `x-pinlab-pod` header. */
  pod: string;
  path?: string;
  sessionLost?: SessionLostStyle;
  /** Answer requests with one JSON body instead of an SSE stream (the SDK's `enableJsonResponse`). */
  jsonResponse?: boolean;
}

export interface DemoBackendStats {
  pod: string;
  sessions: number;
  /** initialize requests that opened a session here. */
  initializes: number;
  /** HTTP requests, health probes (OPTIONS) left out. */
  requests: number;
  /** OPTIONS requests: what proxies' health probes send. */
  probes: number;
  /** The last request on the MCP path (probes left out), as it arrived: for tests of what a proxy passes on. */
  last: { method: string; url: string; headers: Record<string, string | string[] | undefined> } | null;
}

const MAX_BODY = 4 * 1024 * 1024;

/** The demo MCP server: stateful Streamable HTTP on the official SDK, sessions in memory. */
export function createDemoBackend(options: DemoBackendOptions): { server: Server; stats: () => DemoBackendStats } {
  const path = options.path ?? '/mcp';
  const style = options.sessionLost ?? '404';
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const latches = new Latches();
  let initializes = 0;
  let requests = 0;
  let probes = 0;
  let last: DemoBackendStats['last'] = null;
  /** Requests whose connection is to be dropped unanswered (POST /chaos/reset-next): a reset after the request was written. */
  let resetNext = 0;
  const stats = (): DemoBackendStats => ({ pod: options.pod, sessions: transports.size, initializes, requests, probes, last });

  async function mcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const transport = transports.get(sessionId);
      if (transport) return transport.handleRequest(req, res);
      return sessionLost(req, res, style);
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse((await readBody(req)).toString('utf8'));
    } catch (error) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32700, message: `Parse error: ${(error as Error).message}` }, id: null }));
      return;
    }
    const messages = Array.isArray(body) ? body : [body];
    if (messages.some((m) => isInitializeRequest(m))) {
      let id: string | null = null;
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: options.jsonResponse ?? false,
        onsessioninitialized: (sid) => {
          id = sid;
          transports.set(sid, transport);
          initializes++;
        },
      });
      transport.onclose = () => {
        if (id) transports.delete(id);
      };
      await createDemoMcpServer({ pod: options.pod, sessionId: () => id, latches }).connect(transport);
      return transport.handleRequest(req, res, body);
    }
    // No session and not initialize: answered statelessly, as MCP's sessionless revision asks.
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    const server = createDemoMcpServer({ pod: options.pod, sessionId: () => null, latches });
    res.on('close', () => void server.close());
    await server.connect(transport);
    return transport.handleRequest(req, res, body);
  }

  const server = createServer((req, res) => {
    if (req.method === 'OPTIONS') probes++;
    else requests++;
    res.setHeader('x-pinlab-pod', options.pod);
    const url = new URL(req.url ?? '/', 'http://pod');
    if (url.pathname === path && req.method !== 'OPTIONS') {
      const { authorization: _a, cookie: _c, ...headers } = req.headers; // credentials are no test's business
      last = { method: req.method ?? 'GET', url: req.url ?? '/', headers };
    }
    if (url.pathname === path && req.method === 'POST' && resetNext > 0) {
      resetNext--;
      req.socket.destroy();
    } else if (url.pathname === path) {
      mcp(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: (error as Error).message }, id: null }));
      });
    } else if (url.pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats()));
    } else if (url.pathname === '/chaos/reset-next' && req.method === 'POST') {
      resetNext++;
      res.writeHead(204).end();
    } else if (url.pathname.startsWith('/latch/') && req.method === 'POST') {
      latches.open(url.pathname.slice('/latch/'.length));
      res.writeHead(204).end();
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found; MCP is on ${path}`);
    }
  });
  return { server, stats };
}

async function sessionLost(req: IncomingMessage, res: ServerResponse, style: SessionLostStyle): Promise<void> {
  if (style === '404') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('session not found');
    return;
  }
  if (style === '400') {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: No valid session ID provided' }, id: null }));
    return;
  }
  let id: unknown = null;
  try {
    id = (JSON.parse((await readBody(req)).toString('utf8')) as { id?: unknown }).id ?? null;
  } catch {
    // no id to echo
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id }));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
