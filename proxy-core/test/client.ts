import { request } from 'undici';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/** The official SDK client, connected (initialize + initialized) through `url`. */
export async function connectClient(url: string, sessionId?: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), sessionId ? { sessionId } : {});
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
export async function rawCall(url: string, sessionId: string | null, name: string, id = 1, args: Record<string, unknown> = {}) {
  const response = await request(url, {
    method: 'POST',
    headers: sessionId ? { ...MCP_HEADERS, 'mcp-session-id': sessionId } : MCP_HEADERS,
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }),
  });
  return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
}
