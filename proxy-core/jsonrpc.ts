/** What the proxy needs to know about a POST body, learned without parsing when it can. */
export type BodyKind =
  | { kind: 'initialize'; protocolVersion: string | null }
  | { kind: 'other' }
  | { kind: 'malformed'; message: string };

type JsonRpcId = string | number | null;

const INITIALIZE = Buffer.from('"initialize"');

/**
 * Is this body (a JSON-RPC message or batch) an initialize? Bodies that cannot be one —
 * the token `"initialize"` is absent — pass untouched without being parsed.
 */
export function classifyBody(body: Buffer): BodyKind {
  if (body.indexOf(INITIALIZE) === -1) return { kind: 'other' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return { kind: 'malformed', message: error instanceof Error ? error.message : 'invalid JSON' };
  }
  for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
    if (isObject(message) && message.method === 'initialize') {
      const params = isObject(message.params) ? message.params : {};
      return { kind: 'initialize', protocolVersion: typeof params.protocolVersion === 'string' ? params.protocolVersion : null };
    }
  }
  return { kind: 'other' };
}

/** The `id` of a single JSON-RPC request body, for error replies; undefined for notifications, batches and junk. */
export function requestIdOf(body: Buffer | null): JsonRpcId | undefined {
  if (!body || body.length === 0) return undefined;
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (isObject(parsed) && 'id' in parsed) {
      const id = parsed.id;
      if (typeof id === 'string' || typeof id === 'number' || id === null) return id;
    }
  } catch {
    // not JSON: no id to echo
  }
  return undefined;
}

/** A JSON-RPC error response; the `id` key is left out when the request had none. */
export function errorBody(code: number, message: string, id?: JsonRpcId): string {
  return JSON.stringify(id === undefined ? { jsonrpc: '2.0', error: { code, message } } : { jsonrpc: '2.0', error: { code, message }, id });
}

export const SESSION_NOT_FOUND = -32001;
export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const INTERNAL_ERROR = -32603;

export type SessionLostSignal = 'session-lost-404' | 'session-lost-400' | 'session-lost-32001';

/**
 * How pods say "I do not know this session": 404 (the spec); 400 with a JSON-RPC error about
 * an invalid/unknown session id (servers built from SDK examples); JSON-RPC -32001 with any
 * status. Nothing else counts: a 400 about a bad argument is the client's answer.
 */
export function sessionLostSignal(status: number, body: string): SessionLostSignal | null {
  const error = jsonRpcError(body);
  if (error?.code === SESSION_NOT_FOUND) return 'session-lost-32001';
  if (status === 404) return 'session-lost-404';
  if (status === 400 && error && /session/i.test(error.message) && /invalid|unknown|not found|no valid|expired|does not exist/i.test(error.message)) {
    return 'session-lost-400';
  }
  return null;
}

function jsonRpcError(body: string): { code: number; message: string } | null {
  if (!body.includes('"error"')) return null;
  try {
    const parsed: unknown = JSON.parse(body);
    const message = Array.isArray(parsed) ? parsed[0] : parsed;
    if (isObject(message) && isObject(message.error) && typeof message.error.code === 'number') {
      return { code: message.error.code, message: typeof message.error.message === 'string' ? message.error.message : '' };
    }
  } catch {
    // an SSE-framed or non-JSON error body: look for the code in the text
    const match = /"code"\s*:\s*(-?\d+)/.exec(body);
    if (match) return { code: Number(match[1]), message: /"message"\s*:\s*"([^"]*)"/.exec(body)?.[1] ?? '' };
  }
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
