import { Client as ModernClient, ProtocolError, SdkHttpError, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { messageOf } from '../../proxy-core/errors.ts';

/** The era one simulated client speaks. */
export type ClientEra = 'legacy' | 'modern';

/** The MCP revision modern clients pin: no fallback to `initialize`, so a server that lacks it says so. */
export const MODERN_PROTOCOL = '2026-07-28';

/** The header a pod names itself in (the demo backend sets it): how a sessionless call's pod is known. */
export const POD_HEADER = 'x-pinlab-pod';

/** A tool's answer, as both SDKs give it. */
export interface ToolAnswer {
  isError?: boolean;
  content?: unknown;
  structuredContent?: unknown;
}

/** One simulated client of either era: the official SDK client of that era, over Streamable HTTP. */
export interface EraClient {
  readonly era: ClientEra;
  /** The client session id (legacy), null for a modern client: 2026-07-28 has no sessions. */
  readonly sessionId: string | null;
  /** The pod that answered this client's last POST, as the pod named itself; null when it did not. */
  readonly answeredBy: string | null;
  callTool(name: string, args: Record<string, unknown>): Promise<ToolAnswer>;
  /** What every server of the era answers: `ping` (legacy); `server/discover` (modern: 2026-07-28 has no ping). */
  readonly probeMethod: 'ping' | 'server/discover';
  probe(): Promise<void>;
  /** `tools/list`, from the server each time (a modern client would otherwise answer it from its cache). */
  listTools(): Promise<void>;
  close(): Promise<void>;
}

/** How a failed call failed, as the client saw it. */
export interface Failure {
  message: string;
  /** HTTP status, when the transport said one. */
  status: number | null;
  /** JSON-RPC error code, when there was one. */
  rpcCode: number | null;
}

export function failureOf(error: unknown): Failure {
  const message = withCauses(error);
  if (error instanceof StreamableHTTPError) return { message, status: error.code ?? null, rpcCode: null };
  if (error instanceof SdkHttpError) return { message, status: error.status, rpcCode: null };
  if (error instanceof McpError || error instanceof ProtocolError) return { message, status: null, rpcCode: error.code };
  return { message, status: null, rpcCode: null };
}

/**
 * An error's message with the causes under it: `fetch` says only "fetch failed", and what
 * failed (`connect ECONNREFUSED 127.0.0.1:8080`, `other side closed`) is its cause.
 */
function withCauses(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e !== undefined && e !== null && parts.length < 4; e = e instanceof Error ? e.cause : undefined) {
    const part = messageOf(e);
    if (part && !parts.at(-1)?.includes(part)) parts.push(part);
  }
  return parts.join(': ');
}

/**
 * A `fetch` that notes which pod answered each POST (not the legacy GET stream, which stays
 * open meanwhile); none while a POST is under way, so that a request that got no answer is
 * never put on the pod of the one before.
 */
function podNotingFetch(note: (pod: string | null) => void) {
  return async (url: string | URL, init?: RequestInit): Promise<Response> => {
    const post = init?.method === 'POST';
    if (post) note(null);
    const response = await fetch(url, init);
    if (post) note(response.headers.get(POD_HEADER));
    return response;
  };
}

/**
 * Connects a client of `era` to `url`: legacy — the v1 SDK `Client` (initialize, then a session);
 * modern — the v2 SDK `Client` pinned to 2026-07-28 (`server/discover`, no session, `Mcp-Method`
 * and `Mcp-Name` on every POST). A server that cannot speak that era fails the connect.
 */
export async function connectEraClient(era: ClientEra, name: string, url: string): Promise<EraClient> {
  let answeredBy: string | null = null;
  const fetch = podNotingFetch((pod) => (answeredBy = pod));
  const info = { name: `pinlab-${name}`, version: '0.1.0' };
  if (era === 'legacy') {
    const transport = new LegacyTransport(new URL(url), { fetch });
    const client = new LegacyClient(info);
    await client.connect(transport);
    return {
      era, get answeredBy() { return answeredBy; }, get sessionId() { return transport.sessionId ?? null; },
      // Typed for the pre-2024 `toolResult` shape too, which no current server answers.
      callTool: async (tool, args) => (await client.callTool({ name: tool, arguments: args })) as ToolAnswer,
      probeMethod: 'ping',
      probe: async () => void (await client.ping()),
      listTools: async () => void (await client.listTools()),
      close: () => client.close(),
    };
  }
  const transport = new ModernTransport(new URL(url), { fetch });
  const client = new ModernClient(info, { versionNegotiation: { mode: { pin: MODERN_PROTOCOL } } });
  await client.connect(transport);
  return {
    era, get answeredBy() { return answeredBy; }, sessionId: null,
    callTool: (tool, args) => client.callTool({ name: tool, arguments: args }),
    probeMethod: 'server/discover',
    probe: async () => void (await client.discover()),
    listTools: async () => void (await client.listTools(undefined, { cacheMode: 'bypass' })),
    close: () => client.close(),
  };
}

/** Which era client `index` (from 0) of `clients` speaks: in a mix, the first round(clients × modernShare) are modern. */
export function eraOf(index: number, clients: number, era: 'legacy' | 'modern' | 'mix', modernShare: number): ClientEra {
  if (era !== 'mix') return era;
  return index < Math.round(clients * modernShare) ? 'modern' : 'legacy';
}
