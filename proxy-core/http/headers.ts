import type { IncomingHttpHeaders } from 'node:http';

// Hop-by-hop headers (RFC 9110 §7.6.1) and those the proxy sets itself.
const DROP_REQUEST = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade',
  'expect', 'content-length', 'mcp-session-id',
]);
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'trailer', 'upgrade', 'mcp-session-id']);

/**
 * The client's headers for the pod, as a flat [name, value, …] list: hop-by-hop headers
 * dropped, `Mcp-Session-Id` replaced by the backend's id (or left out), and `replace`
 * overriding any header it names.
 */
export function upstreamHeaders(rawHeaders: readonly string[], backendSessionId: string | null, replace?: Record<string, string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const lower = name.toLowerCase();
    if (DROP_REQUEST.has(lower) || (replace && lower in replace)) continue;
    out.push(name, rawHeaders[i + 1] as string);
  }
  if (backendSessionId !== null) out.push('mcp-session-id', backendSessionId);
  if (replace) for (const [name, value] of Object.entries(replace)) out.push(name, value);
  return out;
}

/**
 * The pod's answer headers for the client, as a flat list: hop-by-hop headers dropped and
 * any `Mcp-Session-Id` rewritten to the client's id, so a backend id never leaks.
 * With `clientSessionId` null the pod's own session header passes untouched.
 */
export function downstreamHeaders(headers: IncomingHttpHeaders, clientSessionId: string | null): string[] {
  const out: string[] = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (DROP_RESPONSE.has(name)) {
      if (name === 'mcp-session-id') out.push(name, clientSessionId ?? String(value));
      continue;
    }
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, value);
  }
  return out;
}
