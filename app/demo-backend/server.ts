import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import {
  createMcpHandler, isInitializeRequest, isLegacyRequest, legacyStatelessFallback, WebStandardStreamableHTTPServerTransport, type McpRequestContext,
} from '@modelcontextprotocol/server';
import { MemoryCarts, type CartStore } from './carts.ts';
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
  /** Where the `cart.*` tools keep carts: this pod's memory unless told otherwise. */
  carts?: CartStore;
}

export interface DemoBackendStats {
  pod: string;
  sessions: number;
  /** initialize requests that opened a session here. */
  initializes: number;
  /** HTTP requests, health probes (OPTIONS) left out. */
  requests: number;
  /** Requests of MCP 2026-07-28 (sessionless, `server/discover` and the rest), answered on the same path. */
  modern: number;
  /** OPTIONS requests: what proxies' health probes send. */
  probes: number;
  /** Where carts live: `memory` (this pod's) or `redis` (shared). */
  carts: CartStore['kind'];
  /** The last request on the MCP path (probes left out), as it arrived: for tests of what a proxy passes on. */
  last: { method: string; url: string; headers: Record<string, string | string[] | undefined> } | null;
}

const MAX_BODY = 4 * 1024 * 1024;

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/**
 * The demo MCP server, both eras on one endpoint, on the SDK's v2 server package: legacy
 * (2025) requests — the SDK's own `isLegacyRequest` tells — get sessions in memory, one
 * server instance each; MCP 2026-07-28 requests go to the SDK's sessionless handler, which
 * answers `server/discover`, checks `Mcp-Method`/`Mcp-Name` against the body and serves
 * `subscriptions/listen`. One tool factory serves both.
 */
export function createDemoBackend(options: DemoBackendOptions): { server: Server; stats: () => DemoBackendStats } {
  const path = options.path ?? '/mcp';
  const style = options.sessionLost ?? '404';
  const carts = options.carts ?? new MemoryCarts();
  const transports = new Map<string, WebStandardStreamableHTTPServerTransport>();
  const latches = new Latches();
  const factory = ({ era }: McpRequestContext) => createDemoMcpServer({ pod: options.pod, era, latches, carts });
  const modernHandler = createMcpHandler(factory, { legacy: 'reject', responseMode: options.jsonResponse ? 'json' : 'auto' });
  // No session and not initialize: answered statelessly, as a 2025 server without sessions would.
  const stateless = legacyStatelessFallback(factory);
  let initializes = 0;
  let requests = 0;
  let modern = 0;
  let probes = 0;
  let last: DemoBackendStats['last'] = null;
  /** Requests whose connection is to be dropped unanswered (POST /chaos/reset-next): a reset after the request was written. */
  let resetNext = 0;
  const stats = (): DemoBackendStats => ({ pod: options.pod, sessions: transports.size, initializes, requests, modern, probes, carts: carts.kind, last });

  async function mcp(request: Request): Promise<Response> {
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId !== null) {
      const transport = transports.get(sessionId);
      if (transport) return transport.handleRequest(request);
      return sessionLost(request, style);
    }
    if (request.method !== 'POST') return new Response(null, { status: 405, headers: { allow: 'POST' } });
    if (Number(request.headers.get('content-length') ?? 0) > MAX_BODY) return jsonResponse(413, { jsonrpc: '2.0', error: { code: -32600, message: 'request body too large' }, id: null });
    let body: unknown;
    try {
      body = JSON.parse(await request.text());
    } catch (error) {
      return jsonResponse(400, { jsonrpc: '2.0', error: { code: -32700, message: `Parse error: ${(error as Error).message}` }, id: null });
    }
    if (!(await isLegacyRequest(request, body))) {
      modern++;
      return modernHandler.fetch(request, { parsedBody: body });
    }
    const messages = Array.isArray(body) ? body : [body];
    if (!messages.some((m) => isInitializeRequest(m))) return stateless(request, { parsedBody: body });
    let id: string | null = null;
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
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
    await factory({ era: 'legacy' }).connect(transport);
    return transport.handleRequest(request, { parsedBody: body });
  }

  // The SDK's Node transport (v1) is this same adapter around the same web-standard transport.
  const mcpListener = getRequestListener(async (request) => {
    try {
      return await mcp(request);
    } catch (error) {
      return jsonResponse(500, { jsonrpc: '2.0', error: { code: -32603, message: (error as Error).message }, id: null });
    }
  }, { overrideGlobalObjects: false });

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
      void mcpListener(req, res);
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

async function sessionLost(request: Request, style: SessionLostStyle): Promise<Response> {
  if (style === '404') return new Response('session not found', { status: 404, headers: { 'content-type': 'text/plain' } });
  if (style === '400') return jsonResponse(400, { jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: No valid session ID provided' }, id: null });
  let id: unknown = null;
  try {
    id = ((await request.json()) as { id?: unknown }).id ?? null;
  } catch {
    // no id to echo
  }
  return jsonResponse(200, { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id });
}
