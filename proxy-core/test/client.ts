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
