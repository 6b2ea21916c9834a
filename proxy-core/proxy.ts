import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { ProxyEvents, type RecoveryCause } from './events.ts';
import { BodyTooLargeError, readRequestBody } from './http/body.ts';
import type { RelayOptions, RelayOutcome } from './http/relay.ts';
import { downstreamHeaders, upstreamHeaders } from './http/headers.ts';
import {
  classifyBody, errorBody, INTERNAL_ERROR, INVALID_REQUEST, PARSE_ERROR, requestIdOf, SESSION_NOT_FOUND,
} from './jsonrpc.ts';
import { podOf, Recoverer, SessionGoneError } from './recovery.ts';
import { isSessionId, mintSessionId } from './session/id.ts';
import type { PinningKind, SessionRecord } from './session/record.ts';
import { StoreUnavailableError, type SessionStore } from './store/store.ts';
import { Service } from './upstream/service.ts';
import { dialErrorCause, SERVICE_ORIGIN, SERVICE_POD, Upstream, type UpstreamResponse } from './upstream/upstream.ts';

/** Settings that can change while the proxy runs (the lab's switches). */
export interface ProxySettings {
  pinning: PinningKind;
  recovery: boolean;
  /** 404 per the MCP spec; 400 mirrors ToolHive's transparent proxy. */
  unknownSessionStatus: 404 | 400;
}

export interface ProxyOptions extends ProxySettings {
  replicaId: string;
  /** The service's endpoints: the pods' MCP URLs, all on the same path. */
  backends: readonly string[];
  store: SessionStore;
  /** Request bodies are buffered for replay up to this many bytes; larger ones get 413. */
  maxBodyBytes: number;
  connectTimeoutMs?: number;
  events?: ProxyEvents;
}

/** Error bodies of at most this size are read to tell a lost session from an ordinary error. */
const INSPECT_LIMIT = 64 * 1024;
/** Small JSON answers are read too: some servers say -32001 with a 200. */
const INSPECT_OK_JSON_LIMIT = 1024;

interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  started: number;
  sessionId: string | null;
  pod: string | null;
  recovered: boolean;
}

/**
 * The session-aware MCP proxy (DESIGN.md, "proxy-core behaviour"). `handle` serves one
 * Streamable HTTP request on the MCP path; the HTTP server around it is the caller's.
 */
export class McpProxy {
  readonly replicaId: string;
  readonly events: ProxyEvents;
  readonly settings: ProxySettings;
  readonly store: SessionStore;
  private readonly upstream: Upstream;
  private readonly recoverer: Recoverer;
  private readonly maxBodyBytes: number;

  constructor(options: ProxyOptions) {
    this.replicaId = options.replicaId;
    this.events = options.events ?? new ProxyEvents();
    this.settings = { pinning: options.pinning, recovery: options.recovery, unknownSessionStatus: options.unknownSessionStatus };
    this.store = options.store;
    this.maxBodyBytes = options.maxBodyBytes;
    this.upstream = new Upstream(new Service(options.backends), { connectTimeoutMs: options.connectTimeoutMs ?? 3000 });
    this.recoverer = new Recoverer({ replicaId: this.replicaId, store: this.store, upstream: this.upstream, events: this.events });
  }

  /** Pods came or went: the service's endpoint list changes; pinned sessions keep their pods. */
  setBackends(urls: readonly string[]): void {
    this.upstream.service.setEndpoints(urls);
  }

  configure(settings: Partial<ProxySettings>): void {
    Object.assign(this.settings, settings);
  }

  async close(): Promise<void> {
    await this.upstream.close();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ex: Exchange = { req, res, started: performance.now(), sessionId: null, pod: null, recovered: false };
    try {
      await this.route(ex);
    } catch (error) {
      this.fail(ex, error);
    }
  }

  private async route(ex: Exchange): Promise<void> {
    const { req } = ex;
    const method = req.method ?? 'GET';
    let body: Buffer | null = null;
    if (method === 'POST') {
      try {
        body = await readRequestBody(req, this.maxBodyBytes);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          ex.res.setHeader('connection', 'close');
          return this.reply(ex, 413, errorBody(INVALID_REQUEST, `${error.message}; the proxy buffers bodies for replay (--max-body)`));
        }
        throw error;
      }
      const kind = classifyBody(body);
      if (kind.kind === 'malformed') return this.reply(ex, 400, errorBody(PARSE_ERROR, `parse error: ${kind.message}`, null));
      if (kind.kind === 'initialize') return this.initialize(ex, body, kind.protocolVersion);
    }
    const header = req.headers['mcp-session-id'];
    const sessionId = typeof header === 'string' ? header : null;
    // No session: MCP's sessionless revision, or a stateless server. The service decides.
    if (sessionId === null) return this.passThrough(ex, method, body);
    ex.sessionId = sessionId;
    const record = isSessionId(sessionId) ? await this.read(ex, sessionId, body) : undefined;
    if (record === null) return; // answered: store unavailable
    if (!record) return this.unknownSession(ex, sessionId, body);
    if (method === 'DELETE') return this.deleteSession(ex, record);
    return this.followUp(ex, method, record, body);
  }

  /** The record, undefined when unknown, or null after answering 503 (store down, no copy). */
  private async read(ex: Exchange, sessionId: string, body: Buffer | null): Promise<SessionRecord | undefined | null> {
    try {
      return await this.store.get(sessionId);
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      this.reply(ex, 503, errorBody(INTERNAL_ERROR, `${error.message}; this replica has no copy of session ${sessionId}, retry shortly`, requestIdOf(body)));
      return null;
    }
  }

  private async initialize(ex: Exchange, body: Buffer, protocolVersion: string | null): Promise<void> {
    // Any session header is dropped: some SDKs reject a second initialize on a session.
    const { response, pod } = await this.upstream.initialize(upstreamHeaders(ex.req.rawHeaders, null), body);
    ex.pod = pod;
    const backendSessionId = response.headers['mcp-session-id'];
    if (typeof backendSessionId !== 'string') return this.relayResponse(ex, response, null); // a stateless server
    const now = Date.now();
    const record: SessionRecord = {
      clientSessionId: mintSessionId(),
      backendSessionId,
      target: this.settings.pinning === 'pod' ? `http://${pod}${this.upstream.service.path}` : SERVICE_ORIGIN + this.upstream.service.path,
      pinning: this.settings.pinning,
      initializeBody: body.toString('utf8'),
      protocolVersion,
      createdAt: now,
      lastSeenAt: now,
      lastReplicaId: this.replicaId,
      reinitCount: 0,
      generation: 0,
    };
    // Stored before the client hears of it, so its next request may reach any replica.
    await this.store.create(record);
    ex.sessionId = record.clientSessionId;
    if (this.events.wants('session.created')) {
      this.events.emit('session.created', {
        at: now, replicaId: this.replicaId, sessionId: record.clientSessionId, backendSessionId, pod, pinning: record.pinning,
      });
    }
    this.relayResponse(ex, response, record.clientSessionId);
  }

  private async passThrough(ex: Exchange, method: string, body: Buffer | null): Promise<void> {
    ex.pod = SERVICE_POD;
    await this.upstream.relayViaService(method, upstreamHeaders(ex.req.rawHeaders, null), body, this.relayOptions(ex, null, false));
  }

  private async followUp(ex: Exchange, method: string, record: SessionRecord, body: Buffer | null): Promise<void> {
    ex.pod = podOf(record.target);
    const canRecover = this.settings.recovery && !ex.recovered;
    let outcome: RelayOutcome;
    try {
      outcome = await this.send(record, method, upstreamHeaders(ex.req.rawHeaders, record.backendSessionId), body, this.relayOptions(ex, record.clientSessionId, canRecover));
    } catch (error) {
      const cause = dialErrorCause(error);
      if (cause && canRecover) return this.recoverAndReplay(ex, method, record, body, cause);
      throw error;
    }
    if (outcome.kind === 'lost') return this.recoverAndReplay(ex, method, record, body, outcome.signal);
  }

  private async recoverAndReplay(ex: Exchange, method: string, record: SessionRecord, body: Buffer | null, cause: RecoveryCause): Promise<void> {
    let next: SessionRecord;
    try {
      next = await this.recoverer.recover(record, ex.req.rawHeaders, cause);
    } catch (error) {
      if (error instanceof SessionGoneError) return this.unknownSession(ex, record.clientSessionId, body);
      const reason = error instanceof Error ? error.message : String(error);
      return this.reply(ex, 502, errorBody(INTERNAL_ERROR, `session ${record.clientSessionId} lost its pod (${cause}) and could not be re-initialized: ${reason}`, requestIdOf(body)));
    }
    ex.recovered = true;
    return this.followUp(ex, method, next, body);
  }

  /** DELETE goes to the pinned pod and the record goes, whatever the pod says; never recovered. */
  private async deleteSession(ex: Exchange, record: SessionRecord): Promise<void> {
    ex.pod = podOf(record.target);
    await this.store.delete(record.clientSessionId);
    let podStatus: number | null = null;
    try {
      const outcome = await this.send(record, 'DELETE', upstreamHeaders(ex.req.rawHeaders, record.backendSessionId), null, this.relayOptions(ex, record.clientSessionId, false));
      if (outcome.kind === 'relayed') podStatus = outcome.status;
    } catch (error) {
      if (!dialErrorCause(error)) throw error;
      // A pod that is gone has forgotten the session already: the client's goal is met.
      this.reply(ex, 204, null);
    }
    if (this.events.wants('session.deleted')) {
      this.events.emit('session.deleted', { at: Date.now(), replicaId: this.replicaId, sessionId: record.clientSessionId, pod: ex.pod, podStatus });
    }
  }

  private unknownSession(ex: Exchange, sessionId: string, body: Buffer | null): void {
    const status = this.settings.unknownSessionStatus;
    this.reply(ex, status, errorBody(SESSION_NOT_FOUND, 'Session not found', requestIdOf(body)));
    if (this.events.wants('session.unknown')) {
      this.events.emit('session.unknown', { at: Date.now(), replicaId: this.replicaId, sessionId, status });
    }
  }

  private send(record: SessionRecord, method: string, headers: string[], body: Buffer | null, relay: RelayOptions): Promise<RelayOutcome> {
    return record.pinning === 'pod'
      ? this.upstream.relayToPod(record.target, method, headers, body, relay)
      : this.upstream.relayViaService(method, headers, body, relay);
  }

  private relayOptions(ex: Exchange, clientSessionId: string | null, inspect: boolean): RelayOptions {
    return {
      res: ex.res, clientSessionId, inspect: inspect ? inspectLimit : null, onHead: (status) => this.routed(ex, status), flushHead: ex.req.method === 'GET',
    };
  }

  /** Streams an initialize answer to the client (a rare path; the hot one is RelayHandler). */
  private relayResponse(ex: Exchange, response: UpstreamResponse, clientSessionId: string | null): void {
    ex.res.writeHead(response.statusCode, downstreamHeaders(response.headers, clientSessionId));
    ex.res.flushHeaders();
    this.routed(ex, response.statusCode);
    pipeline(response.body, ex.res, () => {
      // An upstream that dies mid-stream ends the client's stream; nothing more to do.
    });
  }

  private reply(ex: Exchange, status: number, body: string | null): void {
    const { res } = ex;
    if (body === null) res.writeHead(status).end();
    else res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    this.routed(ex, status);
  }

  private fail(ex: Exchange, error: unknown): void {
    if (ex.res.headersSent) {
      ex.res.destroy();
      return;
    }
    const cause = dialErrorCause(error);
    const what = ex.pod && ex.pod !== SERVICE_POD ? `pod ${ex.pod}` : 'the service';
    const message = cause
      ? `bad gateway: ${what} could not be reached (${cause})`
      : `proxy error: ${error instanceof Error ? error.message : String(error)}`;
    this.reply(ex, cause ? 502 : 500, errorBody(INTERNAL_ERROR, message));
  }

  private routed(ex: Exchange, status: number): void {
    if (!this.events.wants('request.routed')) return;
    this.events.emit('request.routed', {
      at: Date.now(), replicaId: this.replicaId, httpMethod: ex.req.method ?? 'GET', sessionId: ex.sessionId, pod: ex.pod,
      status, durationMs: performance.now() - ex.started, recovered: ex.recovered,
    });
  }
}

/**
 * How much of an answer to read before relaying it, to tell "session lost" from a real
 * answer: error statuses, and small JSON answers with a 200 (some servers say -32001 so).
 * SSE and large JSON stream straight through.
 */
function inspectLimit(status: number, headers: IncomingHttpHeaders): number {
  if (status >= 400) return INSPECT_LIMIT;
  if (status !== 200 || !String(headers['content-type']).startsWith('application/json')) return 0;
  const length = headers['content-length'];
  return length === undefined || Number(length) <= INSPECT_OK_JSON_LIMIT ? INSPECT_OK_JSON_LIMIT : 0;
}
