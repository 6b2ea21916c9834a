import type { IncomingHttpHeaders } from 'node:http';

// Hop-by-hop headers (RFC 9110 §7.6.1) and those the proxy sets itself.
const DROP_REQUEST = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade',
  'expect', 'content-length', 'mcp-session-id',
]);
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'trailer', 'upgrade', 'mcp-session-id']);

/** For a response's `Mcp-Session-Id`: drop whatever the pod sent (the proxy minted no id for this answer). */
export const DROP_SESSION_ID = Symbol('drop Mcp-Session-Id');

/**
 * What a pod's `Mcp-Session-Id` becomes on its way to the client: the client's own id, nothing
 * (`DROP_SESSION_ID`), or — null — the pod's header untouched (a front that mints nothing
 * itself, like the lab's ingress in front of the replicas).
 */
export type SessionIdRewrite = string | null | typeof DROP_SESSION_ID;

/** This hop, appended to `X-Forwarded-For` / `X-Forwarded-Proto` (whatever the client sent is kept, never trusted). */
export interface ForwardedHop {
  for: string;
  proto: string;
}

/**
 * The client's headers for the pod, as a flat [name, value, …] list: hop-by-hop headers
 * dropped (the fixed ones and any the `Connection` header names), `Mcp-Session-Id` replaced
 * by the backend's id (or left out), `replace` overriding any header it names, and this hop
 * appended to `X-Forwarded-For`/`-Proto` when `forwarded` is given.
 */
export function upstreamHeaders(
  rawHeaders: readonly string[], backendSessionId: string | null, replace?: Record<string, string>, forwarded?: ForwardedHop,
): string[] {
  const out: string[] = [];
  let connection: string | null = null;
  let forwardedFor: string | null = null;
  let forwardedProto: string | null = null;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const value = rawHeaders[i + 1] as string;
    const lower = name.toLowerCase();
    if (lower === 'connection') connection = connection === null ? value : `${connection},${value}`;
    if (DROP_REQUEST.has(lower) || (replace && lower in replace)) continue;
    if (forwarded && lower === 'x-forwarded-for') forwardedFor = forwardedFor === null ? value : `${forwardedFor}, ${value}`;
    else if (forwarded && lower === 'x-forwarded-proto') forwardedProto = forwardedProto === null ? value : `${forwardedProto}, ${value}`;
    else out.push(name, value);
  }
  const kept = connection === null ? out : withoutNamed(out, connection, DROP_REQUEST);
  if (backendSessionId !== null) kept.push('mcp-session-id', backendSessionId);
  if (replace) for (const [name, value] of Object.entries(replace)) kept.push(name, value);
  if (forwarded) {
    kept.push('x-forwarded-for', forwardedFor === null ? forwarded.for : `${forwardedFor}, ${forwarded.for}`);
    kept.push('x-forwarded-proto', forwardedProto === null ? forwarded.proto : `${forwardedProto}, ${forwarded.proto}`);
  }
  return kept;
}

/**
 * The pod's answer headers for the client, as a flat list: hop-by-hop headers dropped (with
 * any its `Connection` header names) and any `Mcp-Session-Id` rewritten as `clientSessionId`
 * says, so a backend id never leaks.
 */
export function downstreamHeaders(headers: IncomingHttpHeaders, clientSessionId: SessionIdRewrite): string[] {
  const out: string[] = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || DROP_RESPONSE.has(name)) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, value);
  }
  const kept = headers.connection === undefined ? out : withoutNamed(out, String(headers.connection), DROP_RESPONSE);
  const podSessionId = headers['mcp-session-id'];
  if (podSessionId !== undefined && clientSessionId !== DROP_SESSION_ID) kept.push('mcp-session-id', clientSessionId ?? String(podSessionId));
  return kept;
}

/**
 * `headers` without those a `Connection` header value names (before the proxy adds its own).
 * Nearly every request and answer says `Connection: keep-alive`, which names
 * nothing left to drop: `headers` comes back as it is, with no copy.
 */
function withoutNamed(headers: string[], connection: string, dropped: ReadonlySet<string>): string[] {
  const lower = connection.toLowerCase();
  if (lower === 'keep-alive') return headers;
  const named = new Set(lower.split(',').map((token) => token.trim()).filter((token) => token && !dropped.has(token)));
  if (named.size === 0) return headers;
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!named.has((headers[i] as string).toLowerCase())) out.push(headers[i] as string, headers[i + 1] as string);
  }
  return out;
}

/** A flat header list without `name` (lower case). */
export function withoutHeader(headers: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if ((headers[i] as string).toLowerCase() !== name) out.push(headers[i] as string, headers[i + 1] as string);
  }
  return out;
}

/** Whether a flat header list has `name` (lower case). */
export function hasHeader(headers: readonly string[], name: string): boolean {
  for (let i = 0; i < headers.length; i += 2) if ((headers[i] as string).toLowerCase() === name) return true;
  return false;
}
