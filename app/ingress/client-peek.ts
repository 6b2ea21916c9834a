import { messagesOf } from '../../proxy-core/jsonrpc.ts';

/** An MCP client's `clientInfo`: what it calls itself. */
export interface ClientInfo {
  name: string;
  version: string;
}

/** Who a request body says its client is. */
export interface ClientPeek {
  clientInfo: ClientInfo;
  /** From an `initialize` (a new session); else from the 2026-07-28 era's per-request `_meta`. */
  initialize: boolean;
}

/** One JSON-RPC request of a body (a message with an id and a method). */
export interface RpcCall {
  id: string | number;
  method: string;
  /** Method and parameters (`_meta` aside): the same key again is the same call sent again. */
  key: string;
}

/** Where the 2026-07-28 revision carries the client's info on every request. */
export const CLIENT_INFO_META_KEY = 'io.modelcontextprotocol/clientInfo';

const INITIALIZE = Buffer.from('"initialize"');
const META_CLIENT_INFO = Buffer.from(`"${CLIENT_INFO_META_KEY}"`);
/** Names and versions end up on screen: longer ones are cut. */
const MAX_FIELD = 200;

/**
 * The client a POST body names, or null. Two byte searches first: a body naming no client
 * (almost every follow-up) is never parsed here.
 */
export function peekClient(body: Buffer): ClientPeek | null {
  const initialize = body.indexOf(INITIALIZE) !== -1;
  if (!initialize && body.indexOf(META_CLIENT_INFO) === -1) return null;
  for (const message of messagesOf(body) ?? []) {
    const params = objectOr(message.params);
    if (!params) continue;
    if (message.method === 'initialize') {
      const clientInfo = clientInfoOf(params.clientInfo);
      if (clientInfo) return { clientInfo, initialize: true };
    }
    const clientInfo = clientInfoOf(objectOr(params._meta)?.[CLIENT_INFO_META_KEY]);
    if (clientInfo) return { clientInfo, initialize: false };
  }
  return null;
}

/** The JSON-RPC requests of a body (notifications and answers are not calls). */
export function callsOf(body: Buffer | null): RpcCall[] {
  const calls: RpcCall[] = [];
  for (const message of messagesOf(body) ?? []) {
    const { id, method } = message;
    if (typeof method !== 'string' || (typeof id !== 'string' && typeof id !== 'number')) continue;
    const { _meta, ...params } = objectOr(message.params) ?? {};
    calls.push({ id, method, key: `${method} ${JSON.stringify(params)}` });
  }
  return calls;
}

function clientInfoOf(value: unknown): ClientInfo | null {
  const info = objectOr(value);
  if (!info || typeof info.name !== 'string' || info.name === '') return null;
  return { name: info.name.slice(0, MAX_FIELD), version: typeof info.version === 'string' ? info.version.slice(0, MAX_FIELD) : '' };
}

function objectOr(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}
