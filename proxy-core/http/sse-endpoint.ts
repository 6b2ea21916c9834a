/**
 * The legacy HTTP+SSE transport's `endpoint` event (MCP 2024-11-05): the first event of the
 * stream a client opens with GET, naming the URL it must POST its messages to — on the
 * pod, a path and the pod's own session query parameter (`/message?sessionId=…`,
 * `/messages/?session_id=…`). The proxy rewrites it to point at itself.
 */

/** The query parameter of the endpoint the proxy gives clients: its minted session id. */
export const SESSION_PARAM = 'sessionId';

/** Where a complete `endpoint` event sits in a stream's text, and what it names. */
export interface EndpointEvent {
  /** Offset of the event's first line. */
  start: number;
  /** Offset just past the blank line that ends it. */
  end: number;
  /** Its data: a URL reference (usually a path and query). */
  data: string;
}

const EVENT_END = /\r\n\r\n|\n\n|\r\r/g;

/** The first complete `endpoint` event of an event stream's text, or null while there is none. */
export function findEndpointEvent(text: string): EndpointEvent | null {
  let start = 0;
  for (const match of text.matchAll(EVENT_END)) {
    const fields = eventFields(text.slice(start, match.index));
    const end = match.index + match[0].length;
    if (fields.event === 'endpoint') return { start, end, data: fields.data };
    start = end;
  }
  return null;
}

/** `text` with the endpoint event `found` replaced by one naming `url`. */
export function withEndpoint(text: string, found: EndpointEvent, url: string): string {
  return `${text.slice(0, found.start)}event: endpoint\ndata: ${url}\n\n${text.slice(found.end)}`;
}

/** What a pod's endpoint event names, resolved on the pod the stream reached. */
export interface PodEndpoint {
  /** `http://<pod><path>?<query>`: where the session's POSTs go. */
  target: string;
  /** The pod's own session id: the value of its query parameter about the session, else the path and query whole. */
  backendSessionId: string;
}

/**
 * Resolves an endpoint event's data against the pod's stream URL. Only its path and query
 * are kept: the POSTs must reach the pod that holds the stream, whatever name it gives
 * itself. Null when the data is not a URL reference.
 */
export function podEndpoint(data: string, pod: string, streamPath: string): PodEndpoint | null {
  let url: URL;
  try {
    url = new URL(data.trim(), `http://${pod}${streamPath}`);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  let backendSessionId = url.pathname + url.search;
  for (const [name, value] of url.searchParams) {
    if (/session/i.test(name) && value) {
      backendSessionId = value;
      break;
    }
  }
  return { target: `http://${pod}${url.pathname}${url.search}`, backendSessionId };
}

/** The endpoint the client is given: the path it opened the stream on, with its session id. */
export function proxyEndpoint(path: string, sessionId: string): string {
  return `${path}?${SESSION_PARAM}=${encodeURIComponent(sessionId)}`;
}

/** A client query string (`?…` or '') split into the proxy's session id and the rest, `&`-joined or ''. */
export function splitSessionParam(query: string): { sessionId: string | null; rest: string } {
  const params = new URLSearchParams(query);
  const sessionId = params.get(SESSION_PARAM);
  params.delete(SESSION_PARAM);
  return { sessionId, rest: params.toString() };
}

/** The query to append to a pod's endpoint `target` so that the client's other parameters go along ('' for none). */
export function extraQuery(target: string, rest: string): string {
  if (!rest) return '';
  return (target.includes('?') ? '&' : '?') + rest;
}

function eventFields(block: string): { event: string; data: string } {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split(/\r\n|\n|\r/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
    if (name === 'event') event = value;
    else if (name === 'data') data.push(value);
  }
  return { event, data: data.join('\n') };
}
