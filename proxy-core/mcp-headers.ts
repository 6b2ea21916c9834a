import type { IncomingHttpHeaders } from 'node:http';
import { isObject } from './jsonrpc.ts';

// MCP 2026-07-28 (the modern era): no sessions, and every request POST names its method and,
// for some methods, its target in headers (SEP-2243) so that intermediaries route without the body.

/** The first protocol revision of the modern era; later ones sort after it (dates). */
export const FIRST_MODERN_PROTOCOL = '2026-07-28';

/** Where a modern request's body names its protocol revision (`params._meta`). */
const PROTOCOL_VERSION_META_KEY = 'io.modelcontextprotocol/protocolVersion';

/**
 * JSON-RPC `HeaderMismatch`: a request's `Mcp-Method` or `Mcp-Name` header disagrees with its
 * body. SEP-2243 asks for HTTP 400 with it; the v2 TypeScript SDK's server answers so too.
 */
export const HEADER_MISMATCH = -32020;

/**
 * The methods whose `Mcp-Name` header mirrors a field of `params` (SEP-2243's table, as the v2
 * SDK's `MCP_NAME_HEADER_SOURCE` has it).
 */
const NAME_SOURCE: Readonly<Record<string, string>> = {
  'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri', 'tasks/get': 'taskId', 'tasks/update': 'taskId', 'tasks/cancel': 'taskId',
};

/**
 * The methods a metric label may name, each as itself; any other `Mcp-Method` is `other`, so
 * that what clients send cannot grow the label set. `none`: no header (legacy traffic).
 */
const METHOD_LABELS: ReadonlySet<string> = new Set([
  'server/discover', 'subscriptions/listen', 'ping', 'tools/call', 'tools/list', 'resources/read', 'resources/list', 'resources/templates/list',
  'resources/subscribe', 'resources/unsubscribe', 'prompts/get', 'prompts/list', 'completion/complete', 'logging/setLevel',
  'tasks/get', 'tasks/update', 'tasks/cancel', 'tasks/list', 'notifications/cancelled', 'notifications/progress', 'notifications/roots/list_changed',
]);

/** A method as a metric label: itself when known, else `other`; `none` without one. */
export function methodLabel(method: string | undefined): string {
  if (method === undefined) return 'none';
  return METHOD_LABELS.has(method) ? method : 'other';
}

/** The request's `Mcp-Method` and `Mcp-Name` headers (the first of each when repeated), as sent. */
export function mcpHeadersOf(headers: IncomingHttpHeaders): { method: string | undefined; name: string | undefined } {
  return { method: single(headers['mcp-method']), name: single(headers['mcp-name']) };
}

/**
 * Whether a request without a session speaks the modern era: it names its method in
 * `Mcp-Method`, or a 2026-07-28 (or later) revision in `MCP-Protocol-Version` or in its body's
 * `_meta` (`message`: the parsed body, when the proxy read it).
 */
export function isModernRequest(headers: IncomingHttpHeaders, message: unknown): boolean {
  if (headers['mcp-method'] !== undefined) return true;
  const version = single(headers['mcp-protocol-version']) ?? metaVersionOf(message);
  return version !== undefined && version >= FIRST_MODERN_PROTOCOL;
}

/** How a request's headers disagree with its body: what the header says and what the body says. */
export interface HeaderMismatch {
  header: string;
  body: string;
  message: string;
}

/**
 * Where a modern request's `Mcp-Method` or `Mcp-Name` header disagrees with its body (a single
 * JSON-RPC message: the modern era has no batches), or null. A header that is absent is not
 * judged here: the pod decides whether it requires one. `Mcp-Name` may carry its value as
 * `=?base64?…?=`, decoded before comparing.
 */
export function headerMismatchOf(headers: IncomingHttpHeaders, message: unknown): HeaderMismatch | null {
  if (!isObject(message) || typeof message.method !== 'string') return null;
  const { method, name } = mcpHeadersOf(headers);
  if (method !== undefined && method.trim() !== message.method) {
    return { header: method, body: message.method, message: `the body names method ${message.method} but the Mcp-Method header names ${method}` };
  }
  const field = Object.hasOwn(NAME_SOURCE, message.method) ? NAME_SOURCE[message.method]! : undefined;
  if (name === undefined || field === undefined) return null;
  const value = isObject(message.params) ? message.params[field] : undefined;
  if (typeof value !== 'string') return null;
  const decoded = decodeNameHeader(name.trim());
  if (decoded === value) return null;
  const says = decoded === null ? 'carries an invalid Base64 value' : `names "${decoded}"`;
  return { header: name, body: value, message: `the body carries params.${field}="${value}" but the Mcp-Name header ${says}` };
}

const BASE64_PREFIX = '=?base64?';
const BASE64_SUFFIX = '?=';
const BASE64_CANONICAL = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** An `Mcp-Name` value as meant: itself, or the UTF-8 text of a `=?base64?…?=` sentinel (null when that is not canonical Base64). */
function decodeNameHeader(value: string): string | null {
  if (!value.startsWith(BASE64_PREFIX) || !value.endsWith(BASE64_SUFFIX)) return value;
  const encoded = value.slice(BASE64_PREFIX.length, value.length - BASE64_SUFFIX.length);
  return BASE64_CANONICAL.test(encoded) ? Buffer.from(encoded, 'base64').toString('utf8') : null;
}

function metaVersionOf(message: unknown): string | undefined {
  if (!isObject(message) || !isObject(message.params) || !isObject(message.params._meta)) return undefined;
  const version = message.params._meta[PROTOCOL_VERSION_META_KEY];
  return typeof version === 'string' ? version : undefined;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
