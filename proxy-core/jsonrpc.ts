/** What the proxy needs to know about a POST body. */
export type BodyKind =
  | {
    kind: 'initialize';
    protocolVersion: string | null;
    /** The initialize message alone, as stored for replay: a batch's other messages are never replayed. */
    initializeBody: string;
  }
  /** `parsed`: the body as JSON, when it was parsed (no session): its header check needs no second parse. */
  | { kind: 'other'; parsed?: unknown }
  | { kind: 'malformed'; message: string };

export type JsonRpcId = string | number | null;

const INITIALIZE = Buffer.from('"initialize"');

/**
 * Is this body (a JSON-RPC message or batch) an initialize? A request without a session is
 * always parsed — it is either an initialize or sessionless traffic, and a JSON escape
 * (`"\u0069nitialize"`) must not hide an initialize from the proxy when the pod would honour
 * it. On a session, a body without the token `"initialize"` passes untouched, unparsed.
 */
export function classifyBody(body: Buffer, onSession: boolean): BodyKind {
  if (onSession && body.indexOf(INITIALIZE) === -1) return { kind: 'other' };
  const text = body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { kind: 'malformed', message: error instanceof Error ? error.message : 'invalid JSON' };
  }
  for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
    if (isObject(message) && message.method === 'initialize') {
      const params = isObject(message.params) ? message.params : {};
      return {
        kind: 'initialize',
        protocolVersion: typeof params.protocolVersion === 'string' ? params.protocolVersion : null,
        initializeBody: Array.isArray(parsed) ? JSON.stringify(message) : text,
      };
    }
  }
  return { kind: 'other', parsed };
}

/** The messages of a JSON-RPC body (one, or a batch's), or null when it is not JSON. */
export function messagesOf(body: Buffer | string | null): Record<string, unknown>[] | null {
  if (body === null || body.length === 0) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    return null;
  }
  return (Array.isArray(parsed) ? parsed : [parsed]).filter(isObject);
}

/** The `id` of a single JSON-RPC request body, for error replies; undefined for notifications, batches and junk. */
export function requestIdOf(body: Buffer | null): JsonRpcId | undefined {
  if (!body || body.length === 0) return undefined;
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (isObject(parsed) && 'id' in parsed) return asId(parsed.id);
  } catch {
    // not JSON: no id to echo
  }
  return undefined;
}

/** A JSON-RPC error response; the `id` key is left out when the request had none. */
export function errorBody(code: number, message: string, id?: JsonRpcId, data?: Record<string, unknown>): string {
  const error = data ? { code, message, data } : { code, message };
  return JSON.stringify(id === undefined ? { jsonrpc: '2.0', error } : { jsonrpc: '2.0', error, id });
}

/**
 * The proxy's own error answer to a request body: one error per request of a batch (same
 * ids), the request's id for a single one, no id for a notification or junk.
 */
export function errorAnswer(body: Buffer | null, code: number, message: string, data?: Record<string, unknown>): string {
  const messages = body && body[0] === 0x5b /* [ */ ? messagesOf(body) : null;
  if (!messages) return errorBody(code, message, requestIdOf(body), data);
  const answers = messages.filter((m) => 'id' in m && typeof m.method === 'string').map((m) => JSON.parse(errorBody(code, message, asId(m.id), data)) as unknown);
  return answers.length > 0 ? JSON.stringify(answers) : errorBody(code, message, undefined, data);
}

export const SESSION_NOT_FOUND = -32001;
export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const INTERNAL_ERROR = -32603;
/**
 * The proxy's answer to a call that was under way on a pod that stopped answering and was
 * not safe to replay: it may or may not have run. (A server error code, -32000 to -32099.)
 */
export const UNKNOWN_OUTCOME = -32050;

export type SessionLostSignal = 'session-lost-404' | 'session-lost-400' | 'session-lost-32001';

const ABOUT_SESSION = /session/i;
const SESSION_UNKNOWN = /invalid|unknown|not found|no valid|expired|does not exist/i;

/**
 * How pods say "I do not know this session": 404 (the spec); 400 with a JSON-RPC error about
 * an invalid/unknown session id (servers built from SDK examples); JSON-RPC -32001 with a
 * 404/400 or a message about the session. -32001 alone is not enough: the SDK also uses it
 * for a request that timed out, and that is the call's answer, not a lost session. Every
 * answer of a batch is looked at.
 */
export function sessionLostSignal(status: number, body: string): SessionLostSignal | null {
  const errors = jsonRpcErrors(body);
  if (errors.some((e) => e.code === SESSION_NOT_FOUND && (status === 404 || status === 400 || ABOUT_SESSION.test(e.message)))) {
    return 'session-lost-32001';
  }
  if (status === 404) return 'session-lost-404';
  if (status === 400 && errors.some((e) => ABOUT_SESSION.test(e.message) && SESSION_UNKNOWN.test(e.message))) return 'session-lost-400';
  return null;
}

function jsonRpcErrors(body: string): { code: number; message: string }[] {
  if (!body.includes('"error"')) return [];
  const errors: { code: number; message: string }[] = [];
  for (const message of messagesOf(body) ?? sseMessages(body)) {
    if (isObject(message.error) && typeof message.error.code === 'number') {
      errors.push({ code: message.error.code, message: typeof message.error.message === 'string' ? message.error.message : '' });
    }
  }
  return errors;
}

/** The JSON-RPC messages of an SSE-framed body: each event's `data:` lines hold one message or batch. */
function sseMessages(body: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const event of body.split(/\r?\n\r?\n/)) {
    const data = event.split(/\r?\n/).filter((line) => line.startsWith('data:')).map((line) => line.slice(line[5] === ' ' ? 6 : 5)).join('\n');
    out.push(...(messagesOf(data) ?? []));
  }
  return out;
}

function asId(value: unknown): JsonRpcId | undefined {
  return typeof value === 'string' || typeof value === 'number' || value === null ? value : undefined;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
