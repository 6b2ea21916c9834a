import type { ProxyRequest, ProxyResponse } from './http/request-response.ts';
import type { Readable } from 'node:stream';
import type { ProxyEvents, SseStreamEnd } from './events.ts';
import { upstreamHeaders, withoutHeader, type ForwardedHop } from './http/headers.ts';
import { ClientGoneError, type RelayHandler } from './http/relay.ts';
import { extraQuery, findEndpointEvent, podEndpoint, proxyEndpoint, splitSessionParam, withEndpoint } from './http/sse-endpoint.ts';
import { CallCutError, type InFlight } from './inflight.ts';
import { errorAnswer, errorBody, INTERNAL_ERROR, INVALID_REQUEST, SESSION_NOT_FOUND, UNKNOWN_OUTCOME } from './jsonrpc.ts';
import { podOf } from './recovery.ts';
import { isSessionId, mintSessionId } from './session/id.ts';
import type { SessionRecord } from './session/record.ts';
import type { SessionStore } from './store/store.ts';
import { transportCause, type InitializeAnswer, type InitializeWatch, type Upstream } from './upstream/upstream.ts';

/**
 * Whether a backend path selects the legacy HTTP+SSE transport (MCP 2024-11-05): the pods'
 * URL is their SSE endpoint (`http://pod:3001/sse`), not a Streamable HTTP endpoint.
 */
export function isLegacySsePath(path: string): boolean {
  return /\/sse\/?$/.test(path);
}

/** A pod that opened a stream and named no endpoint within this long is passed over (its health probes may pass: it answers). */
const ENDPOINT_WAIT_MS = 10_000;

/** What the legacy transport reads and sets of a request the proxy holds. */
export interface LegacyExchange {
  req: ProxyRequest;
  res: ProxyResponse;
  /** The client's query string, `?` included, or ''. */
  query: string;
  forwarded: ForwardedHop;
  sessionId: string | null;
  pod: string | null;
}

/** The proxy the legacy transport serves in: its parts, and its ways of answering (which emit `request.routed`). */
export interface LegacyHost<E extends LegacyExchange> {
  replicaId: string;
  events: ProxyEvents;
  store: SessionStore;
  upstream: Upstream;
  inflight: InFlight;
  /** Read live: the lab may switch it. */
  settings: { readonly unknownSessionStatus: 404 | 400 };
  /** How often an open stream refreshes its record's TTL; 0: never (no TTL). */
  refreshMs: number;
  isHealthy(pod: string): boolean;
  watchInitialize(sessionId: string | null): InitializeWatch;
  /** The request body, or null after answering 413. */
  readBody(ex: E): Promise<Buffer | null>;
  /** The record, undefined when unknown, or null after answering 503. */
  read(ex: E, sessionId: string, body: Buffer | null): Promise<SessionRecord | undefined | null>;
  unknownSession(ex: E, sessionId: string, body: Buffer | null): void;
  /** Sends the request to `record.target` (plus `ex.query`) and relays the answer, registered as in flight on its pod. */
  relay(ex: E, method: string, record: SessionRecord, body: Buffer): RelayHandler;
  /** Writes an answer held up to a point, then streams the rest; any `Mcp-Session-Id` dropped. */
  relayAnswer(ex: E, answer: InitializeAnswer): void;
  reply(ex: E, status: number, body: string | null): void;
}

/**
 * The legacy HTTP+SSE transport, routed by the same session records as Streamable HTTP,
 * keyed by a query parameter. A client's `GET` on the MCP path opens a stream on a pod the
 * service chooses; the pod's `endpoint` event is rewritten to point at the proxy with a
 * minted session id; the client's POSTs to it, through any replica, go to the pod's own
 * endpoint, and the pod answers on the stream. The stream lives on the replica the GET
 * reached; the session lives as long as the stream: state cannot move with an SSE stream,
 * so there is no recovery — the client opens a new stream and gets a new session.
 */
export class LegacySse<E extends LegacyExchange> {
  private readonly host: LegacyHost<E>;

  constructor(host: LegacyHost<E>) {
    this.host = host;
  }

  async route(ex: E): Promise<void> {
    const method = ex.req.method ?? 'GET';
    if (method === 'GET') return this.open(ex);
    if (method === 'POST') {
      const body = await this.host.readBody(ex);
      if (body !== null) return this.message(ex, body);
      return;
    }
    ex.res.setHeader('allow', 'GET, POST');
    this.host.reply(ex, 405, errorBody(INVALID_REQUEST, `${method} is not part of the legacy HTTP+SSE transport this service speaks: GET opens a stream, POST sends a message to the endpoint it names`));
  }

  /** Opens a stream on a pod, rewrites its endpoint event, stores the session, relays the rest as it comes. */
  private async open(ex: E): Promise<void> {
    const { host } = this;
    if (splitSessionParam(ex.query).sessionId !== null) {
      return host.reply(ex, 400, errorBody(INVALID_REQUEST, 'a GET opens a new legacy HTTP+SSE stream: leave out ?sessionId= (messages are POSTed to the endpoint the stream names)'));
    }
    // The new pod never issued the event ids of a stream the client had before.
    const headers = upstreamHeaders(withoutHeader(ex.req.rawHeaders, 'last-event-id'), null, undefined, ex.forwarded);
    const watch = host.watchInitialize(null);
    const answer = await host.upstream.openStream(headers, ex.query, (text) => findEndpointEvent(text) !== null, (pod, cut) => {
      const unwatch = watch(pod, cut);
      const timer = setTimeout(() => cut(new CallCutError('upstream-timeout', pod, `pod ${pod} named no message endpoint within ${ENDPOINT_WAIT_MS / 1000} s of opening the stream`)), ENDPOINT_WAIT_MS);
      return () => {
        clearTimeout(timer);
        unwatch();
      };
    });
    ex.pod = answer.pod;
    const sse = String(answer.headers['content-type'] ?? '').startsWith('text/event-stream');
    if (answer.statusCode !== 200 || !sse) return host.relayAnswer(ex, answer); // the pod's refusal, as it gave it
    const { rest } = answer;
    const text = answer.head.toString('utf8');
    const found = findEndpointEvent(text);
    const endpoint = found && podEndpoint(found.data, answer.pod, host.upstream.service.path);
    if (!rest || !found || !endpoint) {
      rest?.destroy();
      const what = !found ? 'did not name a message endpoint (its first event must be `endpoint`)'
        : !endpoint ? `named an endpoint that is not a URL: ${JSON.stringify(found.data)}`
        : 'ended the stream right after naming its endpoint';
      return host.reply(ex, 502, errorBody(INTERNAL_ERROR, `bad gateway: pod ${answer.pod} ${what}`));
    }
    const stream = this.watchStream(ex, rest, answer.pod);
    const now = Date.now();
    const record: SessionRecord = {
      clientSessionId: mintSessionId(),
      backendSessionId: endpoint.backendSessionId,
      target: endpoint.target,
      // The stream is on this pod and nowhere else: the service has no say in the POSTs.
      pinning: 'pod',
      protocolVersion: null,
      createdAt: now,
      lastSeenAt: now,
      lastReplicaId: host.replicaId,
      reinitCount: 0,
      generation: 0,
    };
    try {
      // No initialize body: it is never replayed, as the session cannot move.
      await host.store.create(record, '');
    } catch (error) {
      rest.destroy();
      throw error;
    }
    ex.sessionId = record.clientSessionId;
    if (host.events.wants('session.created')) {
      host.events.emit('session.created', {
        at: now, replicaId: host.replicaId, sessionId: record.clientSessionId, backendSessionId: record.backendSessionId,
        pod: answer.pod, pinning: 'pod', transport: 'sse',
      });
    }
    stream.held(record.clientSessionId);
    if (ex.res.destroyed) return; // gone while the record was stored: the stream is ended already
    const path = (ex.req.url ?? '/').split('?')[0] as string;
    host.relayAnswer(ex, { ...answer, head: Buffer.from(withEndpoint(text, found, proxyEndpoint(path, record.clientSessionId))) });
  }

  /**
   * Watches a stream from the moment it is open: who ended it, and — once its session is
   * stored (`held`) — keeps the record alive while it is open, lets a verdict of "unhealthy"
   * cut it, and ends the session with it.
   */
  private watchStream(ex: E, rest: Readable, pod: string): { held(sessionId: string): void } {
    const { host } = this;
    let by: SseStreamEnd | null = null;
    rest.once('end', () => (by ??= 'pod-closed'));
    rest.once('error', () => (by ??= 'pod-lost'));
    ex.res.once('close', () => {
      by ??= 'client-closed';
      rest.destroy(); // tells the pod: its transport closes the session
    });
    return {
      held: (sessionId) => {
        const entry = host.inflight.start(pod, sessionId, true, (error) => {
          by ??= 'pod-unhealthy';
          rest.destroy(error);
        });
        const refresh = host.refreshMs > 0 ? setInterval(() => host.store.get(sessionId).catch(() => {}), host.refreshMs).unref() : null;
        const ended = () => {
          host.inflight.end(entry);
          if (refresh) clearInterval(refresh);
          // Nothing to route to any more: POSTs from now on get "session not found".
          host.store.delete(sessionId).catch(() => {});
          if (host.events.wants('session.deleted')) {
            const end = by ?? 'pod-lost';
            host.events.emit('session.deleted', {
              at: Date.now(), replicaId: host.replicaId, sessionId, pod, podStatus: null, streamEnded: { by: end, reason: endReason(end, pod) },
            });
          }
        };
        if (rest.closed) ended();
        else rest.once('close', ended);
      },
    };
  }

  /** A client's message: to the pod that holds its session's stream, with the pod's own session parameter. */
  private async message(ex: E, body: Buffer): Promise<void> {
    const { host } = this;
    const { sessionId, rest } = splitSessionParam(ex.query);
    if (sessionId === null) {
      ex.res.setHeader('allow', 'GET');
      return host.reply(ex, 405, errorAnswer(body, INVALID_REQUEST, 'this service speaks the legacy HTTP+SSE transport (MCP 2024-11-05): open a stream with GET on this path; its endpoint event names where to POST'));
    }
    ex.sessionId = sessionId;
    const record = isSessionId(sessionId) ? await host.read(ex, sessionId, body) : undefined;
    if (record === null) return; // answered: store unavailable
    if (!record) return host.unknownSession(ex, sessionId, body);
    const pod = podOf(record.target);
    ex.pod = pod;
    if (!host.isHealthy(pod)) return this.gone(ex, body, `its pod ${pod} stopped answering its health probes`);
    ex.query = extraQuery(record.target, rest);
    const handler = host.relay(ex, 'POST', record, body);
    try {
      await handler.done;
    } catch (error) {
      if (error instanceof ClientGoneError) return;
      const cause = error instanceof CallCutError ? null : transportCause(error);
      if (!(error instanceof CallCutError) && !cause) throw error;
      if (cause && !handler.requestStarted) return this.gone(ex, body, `its pod ${pod} cannot be reached (${cause})`);
      // Its answer would come on the stream, which ends with the pod: the client learns no more.
      const what = error instanceof CallCutError ? error.message : `pod ${pod} closed the connection after the message was sent (${cause})`;
      host.reply(ex, 502, errorAnswer(body, UNKNOWN_OUTCOME, `${what}; the message may or may not have reached it`, { outcome: 'unknown', pod }));
    }
  }

  /** The session's pod is gone or hung: its stream is (or is about to be) ended, and the session with it. */
  private gone(ex: E, body: Buffer, why: string): void {
    const message = `Session not found: ${why}. A legacy HTTP+SSE session cannot move to another pod: open a new stream (GET) for a new session`;
    this.host.reply(ex, this.host.settings.unknownSessionStatus, errorAnswer(body, SESSION_NOT_FOUND, message));
  }
}

function endReason(by: SseStreamEnd, pod: string): string {
  const cannotMove = 'a legacy HTTP+SSE session cannot move to another pod: the client must open a new stream, and gets a new session';
  switch (by) {
    case 'client-closed':
      return 'the client closed its stream; a legacy HTTP+SSE session lives as long as its stream';
    case 'pod-closed':
      return `pod ${pod} ended the stream; ${cannotMove}`;
    case 'pod-lost':
      return `the connection to pod ${pod} broke; ${cannotMove}`;
    case 'pod-unhealthy':
      return `pod ${pod} stopped answering its health probes and the proxy ended the stream; ${cannotMove}`;
  }
}
