import { request } from 'undici';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

/** The official SDK client, connected (initialize + initialized) through `url`; `fetch` dials its connections (a front door's). */
export async function connectClient(url: string, sessionId?: string, fetch?: FetchLike): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), { ...(sessionId ? { sessionId } : {}), ...(fetch ? { fetch } : {}) });
  const client = new Client({ name: 'pinlab-test', version: '0.0.0' });
  await client.connect(transport);
  return { client, transport };
}

/** Calls a demo tool and returns its structured result. */
export async function call<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown> = {}): Promise<T> {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError) throw new Error(`tool ${name} failed: ${JSON.stringify(result.content)}`);
  return result.structuredContent as T;
}

export const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
};

/**
 * A session opened with plain HTTP (initialize + notifications/initialized), for tests that
 * need exact control: the SDK client also keeps a GET stream open, which recovers on its own.
 */
export async function rawSession(url: string): Promise<string> {
  const init = await request(url, {
    method: 'POST',
    headers: MCP_HEADERS,
    body: JSON.stringify({
      jsonrpc: '2.0', id: 0, method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'pinlab-raw', version: '0.0.0' } },
    }),
  });
  await init.body.text();
  const id = init.headers['mcp-session-id'];
  if (init.statusCode !== 200 || typeof id !== 'string') throw new Error(`initialize answered ${init.statusCode}`);
  const notified = await request(url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, 'mcp-session-id': id },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  await notified.body.dump();
  return id;
}

/** tools/call over plain HTTP; the answer's status, session header and body text. */
export function rawCall(url: string, sessionId: string | null, name: string, id = 1, args: Record<string, unknown> = {}) {
  return rawRequest(url, sessionId, { id, method: 'tools/call', params: { name, arguments: args } });
}

/** The JSON-RPC message of an answer's text, whether it came as JSON or as one SSE event. */
export function answerOf(text: string): { result?: Record<string, unknown>; error?: { code: number; message: string }; id?: unknown } {
  const data = text.trimStart().startsWith('{') ? text : text.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('');
  return JSON.parse(data) as ReturnType<typeof answerOf>;
}

/** A JSON-RPC request over plain HTTP on a session (or none); the answer's status, headers and text. */
export async function rawRequest(url: string, sessionId: string | null, message: Record<string, unknown>, headers: Record<string, string> = {}) {
  const response = await request(url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, ...(sessionId ? { 'mcp-session-id': sessionId } : {}), ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', ...message }),
  });
  return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
}
