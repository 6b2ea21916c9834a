import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { BackendSpec } from '../pods/runtime.ts';
import { sourceOf } from './source.ts';
import type { ServerUnderTest, ToolInfo } from './under-test.ts';

export interface IdentifyOptions {
  /** The image id of an image backend, when the runtime could tell. */
  digest?: string | null;
  /** For each request of the probe (initialize, each tools/list page). */
  timeoutMs?: number;
}

/** A server that pages its tools forever is cut off here. */
const MAX_TOOL_PAGES = 100;

/**
 * Opens one MCP session straight to one pod (no proxy in between), reads what the server
 * says it is — `serverInfo`, the negotiated protocol version, whether it issues a session,
 * every page of `tools/list` — and closes the session again. Never throws: what could not
 * be read is said in `error`, with whatever was read before it.
 */
export async function identifyServer(url: string, backend: BackendSpec, options: IdentifyOptions = {}): Promise<ServerUnderTest> {
  const server = unidentified(backend, null, options.digest);
  const timeout = options.timeoutMs ?? 5000;
  const transport = new StreamableHTTPClientTransport(new URL(url));
  const client = new Client({ name: 'pinlab-identify', version: '0.1.0' });
  let step = 'initialize';
  try {
    await client.connect(transport, { timeout });
    const info = client.getServerVersion();
    server.name = info?.name ?? null;
    server.version = info?.version ?? null;
    server.protocolVersion = transport.protocolVersion ?? null;
    server.sessions = transport.sessionId !== undefined;
    if (client.getServerCapabilities()?.tools) {
      let cursor: string | undefined;
      for (let page = 0; page < MAX_TOOL_PAGES; page++) {
        step = 'tools/list';
        const result = await client.listTools(cursor === undefined ? {} : { cursor }, { timeout });
        server.tools.push(...result.tools.map(toolInfo));
        cursor = result.nextCursor;
        if (!cursor) break;
      }
    }
  } catch (error) {
    server.error = `${step} at ${url} failed: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    // Leave no session behind on the pod: it would count as one of its own.
    if (transport.sessionId !== undefined) {
      // A pod that never answers the DELETE is given up on (closing aborts it).
      const giveUp = setTimeout(() => void transport.close(), timeout);
      await transport.terminateSession().catch(() => {});
      clearTimeout(giveUp);
    }
    await client.close().catch(() => {});
  }
  return server;
}

/** The server as known without asking it: how it runs, and why nothing more is known. */
export function unidentified(backend: BackendSpec, error: string | null, digest?: string | null): ServerUnderTest {
  return {
    kind: backend.kind, source: sourceOf(backend), digest: digest ?? null,
    name: null, version: null, protocolVersion: null, sessions: null, tools: [], error,
  };
}

function toolInfo(tool: Tool): ToolInfo {
  const info: ToolInfo = { name: tool.name, inputSchema: tool.inputSchema as Record<string, unknown> };
  if (tool.title !== undefined) info.title = tool.title;
  if (tool.description !== undefined) info.description = tool.description;
  const a = tool.annotations;
  if (a) {
    const hints = { readOnlyHint: a.readOnlyHint, idempotentHint: a.idempotentHint, destructiveHint: a.destructiveHint, openWorldHint: a.openWorldHint };
    const known = Object.fromEntries(Object.entries(hints).filter(([, v]) => typeof v === 'boolean')) as NonNullable<ToolInfo['annotations']>;
    if (Object.keys(known).length) info.annotations = known;
  }
  return info;
}
