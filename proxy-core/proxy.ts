import type { IncomingHttpHeaders } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { pipeline } from 'node:stream';
import { DEFAULTS } from './config.ts';
import { messageOf } from './errors.ts';
import { ProxyEvents, type InFlightEndReason, type InFlightOutcome, type ProxyEventMap, type RecoveryCause } from './events.ts';
import { BodyTooLargeError, readBoundedBody } from './http/body.ts';
import type { ProxyRequest, ProxyResponse } from './http/request-response.ts';
import { DROP_SESSION_ID, downstreamHeaders, hasHeader, upstreamHeaders, withoutHeader, type ForwardedHop, type SessionIdRewrite } from './http/headers.ts';
import { asEvents, ClientGoneError, RelayHandler, type RelayOptions } from './http/relay.ts';
import { CallCutError, InFlight, type InFlightEntry, type PodInFlight } from './inflight.ts';
import { isLegacySsePath, LegacySse } from './legacy-sse.ts';
import { HEADER_MISMATCH, headerMismatchOf, isModernRequest, mcpHeadersOf } from './mcp-headers.ts';
import {
  classifyBody, errorAnswer, errorBody, INTERNAL_ERROR, INVALID_REQUEST, messagesOf, PARSE_ERROR, SESSION_NOT_FOUND, UNKNOWN_OUTCOME,
} from './jsonrpc.ts';
import { podOf, Recoverer, SessionGoneError } from './recovery.ts';
import { mayListTools, MessageTap, replaySafe, rpcMethodOf, ToolHints, type ReplayPolicy } from './replay-safety.ts';
import { isSessionId, mintSessionId, sessionTag } from './session/id.ts';
import type { PinningKind, SessionRecord } from './session/record.ts';
import { StoreUnavailableError, type SessionStore } from './store/store.ts';
import { HealthMonitor, type HealthOptions, type HealthVerdict } from './upstream/health.ts';
import { endpointKey, Service } from './upstream/service.ts';
import { SERVICE_ORIGIN, SERVICE_POD, transportCause, Upstream, type InitializeAnswer, type InitializeWatch } from './upstream/upstream.ts';

/** Settings that can change while the proxy runs (the lab's switches). */
export interface ProxySettings {
  pinning: PinningKind;
  recovery: boolean;
  /** 404 per the MCP spec; 400 mirrors ToolHive's transparent proxy. */
  unknownSessionStatus: 404 | 400;
  /** What is sent again when a request's fate is unknown (DESIGN.md, "replay safety"). */
  replayInFlight: ReplayPolicy;
}

export interface ProxyOptions extends Omit<ProxySettings, 'replayInFlight'> {
  replicaId: string;
  /**
   * The service's endpoints: the pods' MCP URLs, all on the same path. A path ending in
   * `/sse` (`http://pod:3001/sse`) selects the legacy HTTP+SSE transport.
   */
  backends: readonly string[];
  store: SessionStore;
  /** Request bodies are buffered for replay up to this many bytes; larger ones get 413. */
  maxBodyBytes: number;
  /** The initialize body is stored for replay up to this many bytes; larger ones get 413 (default 64 KiB). */
  maxInitializeBytes?: number;
  /** Probes of every endpoint (DESIGN.md item 10); `intervalMs` 0 turns them off. Default: every second. */
  health?: HealthOptions;
  /** A call without a complete answer after this many ms is ended as "outcome unknown"; 0 (the default) never. */
  upstreamTimeoutMs?: number;
  replayInFlight?: ReplayPolicy;
  connectTimeoutMs?: number;
  events?: ProxyEvents;
  /** The records' TTL in seconds (0: none): an open legacy SSE stream refreshes its record within it. Default 1800. */
  sessionTtlSeconds?: number;
  /** The pods' path when `backends` may start empty (pods found by DNS); default: the backends' own. */
  path?: string;
  /**
   * Sessions pinned to a pod that leaves the endpoint list: `keep` them on it while it answers
   * (the default: the lab's service drops a pod when it dies, and dialling it says so at once),
   * or `recover` them at their next request, as from an unhealthy pod (pods found by DNS: a pod
   * leaves the answer when it is no longer ready or is gone, and a dial to a vanished address
   * would wait for the connect timeout).
   */
  leftPods?: 'keep' | 'recover';
}

/** Error bodies of at most this size are read to tell a lost session from an ordinary error. */
const INSPECT_LIMIT = 64 * 1024;
/** Small JSON answers are read too: some servers say -32001 with a 200. */
const INSPECT_OK_JSON_LIMIT = 1024;

interface Exchange {
  req: ProxyRequest;
  res: ProxyResponse;
  started: number;
  /** The client's query string, `?` included, or ''. */
  query: string;
  forwarded: ForwardedHop;
  sessionId: string | null;
  pod: string | null;
  /** Re-initialized on a new pod (at most once per request: see `redials`). */
  recovered: boolean;
  /**
   * Recoveries again after the first, because the recovered pod could not be dialled (or
   * already failed its probes) before the replay was written: the request ran nowhere, so
   * sending it on is no second execution. Bounded by MAX_REDIALS.
   */
  redials: number;
  /** Sent again after its fate was unknown (at most once per request). */
  resent: boolean;
  /** The client's answer is an event stream already under way: what follows is written into it as events. */
  streaming: boolean;
  lastEventIdDropped: boolean;
  /** A request of MCP 2026-07-28: no session, its method in `Mcp-Method` or its revision named. */
  modern: boolean;
}

/**
 * The session-aware MCP proxy (DESIGN.md, "proxy-core behaviour"). `handle` serves one
 * Streamable HTTP request on the MCP path — or, when the backends' path is an SSE endpoint,
 * one request of the legacy HTTP+SSE transport; the HTTP server around it is the caller's.
 */
export class McpProxy {
  readonly replicaId: string;
  readonly events: ProxyEvents;
  readonly settings: ProxySettings;
  readonly store: SessionStore;
  private readonly upstream: Upstream;
  private readonly recoverer: Recoverer;
  private readonly health: HealthMonitor;
  private readonly inflight: InFlight;
  private readonly hints = new ToolHints();
  private readonly maxBodyBytes: number;
  private readonly maxInitializeBytes: number;
  private readonly upstreamTimeoutMs: number;
  private readonly backstop: NodeJS.Timeout | null = null;
  private readonly leftPods: 'keep' | 'recover';
  /** The legacy HTTP+SSE transport, when the backends' path selects it. */
  private readonly legacy: LegacySse<Exchange> | null = null;

  constructor(options: ProxyOptions) {
    this.replicaId = options.replicaId;
    this.events = options.events ?? new ProxyEvents();
    this.settings = {
      pinning: options.pinning, recovery: options.recovery, unknownSessionStatus: options.unknownSessionStatus,
      replayInFlight: options.replayInFlight ?? DEFAULTS.replayInFlight,
    };
    this.store = options.store;
    this.maxBodyBytes = options.maxBodyBytes;
    this.maxInitializeBytes = options.maxInitializeBytes ?? DEFAULTS.maxInitialize;
    this.upstreamTimeoutMs = options.upstreamTimeoutMs ?? DEFAULTS.upstreamTimeoutMs;
    const service = new Service(options.backends, options.path);
    this.leftPods = options.leftPods ?? 'keep';
    this.upstream = new Upstream(service, { connectTimeoutMs: options.connectTimeoutMs ?? 3000 });
    this.inflight = new InFlight(this.events, this.replicaId);
    this.recoverer = new Recoverer({
      replicaId: this.replicaId, store: this.store, upstream: this.upstream, events: this.events,
      watchInitialize: (sessionId) => this.watchInitialize(sessionId),
    });
    const health = options.health ?? { intervalMs: DEFAULTS.healthIntervalMs, timeoutMs: DEFAULTS.healthTimeoutMs, unhealthyAfter: DEFAULTS.unhealthyAfter };
    this.health = new HealthMonitor(health, service.path, (verdict) => this.judged(verdict));
    service.setHealth((pod) => this.health.isHealthy(pod), (pod) => this.health.isRefusing(pod));
    service.onFailure((pod, reason) => this.health.suspect(pod, reason));
    this.health.setEndpoints(service.list());
    if (isLegacySsePath(service.path)) this.legacy = this.legacySse((options.sessionTtlSeconds ?? DEFAULTS.sessionTtl) * 1000);
    if (this.upstreamTimeoutMs > 0) {
      const ms = this.upstreamTimeoutMs;
      this.backstop = setInterval(() => this.inflight.cutOlderThan(ms, (entry) => new CallCutError(
        'upstream-timeout', entry.pod, `no complete answer from ${entry.pod === SERVICE_POD ? 'the service' : `pod ${entry.pod}`} within ${ms} ms (--upstream-timeout)`,
      )), Math.min(1000, Math.max(10, ms / 4)));
      this.backstop.unref();
    }
  }

  /** Pods came or went: the service's endpoint list changes; pinned sessions keep their pods (see `leftPods`). */
  setBackends(urls: readonly string[]): void {
    const service = this.upstream.service;
    service.setEndpoints(urls);
    this.health.setEndpoints(service.list());
    this.hints.keep(new Set([SERVICE_POD, ...service.list().map(endpointKey)]));
  }

  configure(settings: Partial<ProxySettings>): void {
    Object.assign(this.settings, settings);
  }

  /** Calls this replica has waiting on each pod now (GET streams are not calls). */
  inFlight(): PodInFlight[] {
    return this.inflight.snapshot();
  }

  /** This replica's verdict on every pod it probes. */
  podHealth(): { pod: string; healthy: boolean; failures: number }[] {
    return this.health.states();
  }

  async close(): Promise<void> {
    if (this.backstop) clearInterval(this.backstop);
    this.inflight.close();
    await this.health.close();
    await this.upstream.close();
  }

  handle(req: ProxyRequest, res: ProxyResponse): Promise<void> {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const ex: Exchange = {
      req, res, started: performance.now(), query: q === -1 ? '' : url.slice(q),
      forwarded: { for: req.socket.remoteAddress ?? 'unknown', proto: (req.socket as TLSSocket).encrypted ? 'https' : 'http' },
      sessionId: null, pod: null, recovered: false, redials: 0, resent: false, streaming: false, lastEventIdDropped: false, modern: false,
    };
    return this.route(ex).catch((error: unknown) => this.fail(ex, error));
  }

  private async route(ex: Exchange): Promise<void> {
    if (this.legacy) return this.legacy.route(ex);
    const { req } = ex;
    const method = req.method ?? 'GET';
    const header = req.headers['mcp-session-id'];
    const sessionId = typeof header === 'string' ? header : null;
    let body: Buffer | null = null;
    if (method === 'POST') {
      const read = await readBoundedBody(req, this.maxBodyBytes);
      if (read instanceof BodyTooLargeError) return this.bodyTooLarge(ex, read);
      body = read;
      const kind = classifyBody(body, sessionId !== null);
      if (kind.kind === 'malformed') return this.reply(ex, 400, errorBody(PARSE_ERROR, `parse error: ${kind.message}`, null));
      if (kind.kind === 'initialize') return this.initialize(ex, body, kind.initializeBody, kind.protocolVersion);
      if (sessionId === null) {
        ex.modern = isModernRequest(req.headers, kind.parsed);
        // The body was read anyway: a header that disagrees with it is answered here (SEP-2243), no pod asked.
        const mismatch = headerMismatchOf(req.headers, kind.parsed);
        if (mismatch) {
          const { header, body: said } = mismatch;
          return this.reply(ex, 400, errorAnswer(body, HEADER_MISMATCH, `Bad Request: the request headers and body disagree: ${mismatch.message}`, { mismatch: { header, body: said } }));
        }
      }
    } else if (sessionId === null) ex.modern = isModernRequest(req.headers, null);
    // No session: MCP's sessionless revision, or a stateless server. The service decides.
    if (sessionId === null) return this.forward(ex, method, null, body);
    ex.sessionId = sessionId;
    // The store is read here rather than through `read`: the hot path, one async step fewer.
    let record: SessionRecord | undefined;
    try {
      record = isSessionId(sessionId) ? await this.store.get(sessionId) : undefined;
    } catch (error) {
      return this.storeUnavailable(ex, error, body);
    }
    if (!record) return this.unknownSession(ex, sessionId, body);
    if (method === 'DELETE') return this.deleteSession(ex, record);
    return this.forward(ex, method, record, body);
  }

  /** The request's body, or null after answering 413 (larger than `--max-body`). */
  private async readBody(ex: Exchange): Promise<Buffer | null> {
    const read = await readBoundedBody(ex.req, this.maxBodyBytes);
    if (!(read instanceof BodyTooLargeError)) return read;
    this.bodyTooLarge(ex, read);
    return null;
  }

  private bodyTooLarge(ex: Exchange, error: BodyTooLargeError): void {
    ex.res.setHeader('connection', 'close');
    this.reply(ex, 413, errorBody(INVALID_REQUEST, `${error.message}; the proxy buffers bodies for replay (--max-body)`));
  }

  /** The legacy HTTP+SSE transport, served by this proxy's parts and ways of answering. */
  private legacySse(ttlMs: number): LegacySse<Exchange> {
    return new LegacySse<Exchange>({
      replicaId: this.replicaId, events: this.events, store: this.store, upstream: this.upstream, inflight: this.inflight, settings: this.settings,
      // A third of the TTL: two refreshes may fail before the record of an open stream expires.
      refreshMs: ttlMs > 0 ? Math.max(1000, Math.floor(ttlMs / 3)) : 0,
      isHealthy: (pod) => this.health.isHealthy(pod),
      watchInitialize: (sessionId) => this.watchInitialize(sessionId),
      readBody: (ex) => this.readBody(ex),
      read: (ex, sessionId, body) => this.read(ex, sessionId, body),
      unknownSession: (ex, sessionId, body) => this.unknownSession(ex, sessionId, body),
      relay: (ex, method, record, body) => this.relay(ex, method, record, body, false, false),
      relayAnswer: (ex, answer) => this.relayInitialize(ex, answer, DROP_SESSION_ID),
      reply: (ex, status, body) => this.reply(ex, status, body),
    });
  }

  /** The record, undefined when unknown, or null after answering 503 (store down, no copy). */
  private async read(ex: Exchange, sessionId: string, body: Buffer | null): Promise<SessionRecord | undefined | null> {
    try {
      return await this.store.get(sessionId);
    } catch (error) {
      this.storeUnavailable(ex, error, body);
      return null;
    }
  }

  /**
   * Answers 503 for a store that cannot answer when this replica has no copy of what it needs
   * (`lacking`: the session, or its initialize); rethrows any other error. `situation` leads the message.
   */
  private storeUnavailable(ex: Exchange, error: unknown, body: Buffer | null, lacking = 'this session', situation = ''): void {
    if (!(error instanceof StoreUnavailableError)) throw error;
    // Nothing was sent anywhere: Retry-After tells a load balancer it may try another replica (one that has a copy).
    this.reply(ex, 503, errorAnswer(body, INTERNAL_ERROR, `${situation}${error.message}; this replica has no copy of ${lacking}, retry shortly`), RETRY_SOON);
  }

  private async initialize(ex: Exchange, body: Buffer, initializeBody: string, protocolVersion: string | null): Promise<void> {
    if (Buffer.byteLength(initializeBody) > this.maxInitializeBytes) {
      ex.res.setHeader('connection', 'close');
      return this.reply(ex, 413, errorAnswer(body, INVALID_REQUEST, `the initialize request is larger than ${this.maxInitializeBytes} bytes; the proxy stores it for replay (--max-initialize)`));
    }
    // Any session header is dropped: some SDKs reject a second initialize on a session.
    const answer = await this.upstream.initialize(upstreamHeaders(ex.req.rawHeaders, null, undefined, ex.forwarded), body, ex.query, this.watchInitialize(null));
    ex.pod = answer.pod;
    const backendSessionId = answer.headers['mcp-session-id'];
    // A stateless server, or a failed initialize: whatever session header came along is not the client's.
    if (typeof backendSessionId !== 'string' || answer.statusCode >= 300) return this.relayInitialize(ex, answer, DROP_SESSION_ID);
    const now = Date.now();
    const record: SessionRecord = {
      clientSessionId: mintSessionId(),
      backendSessionId,
      target: this.settings.pinning === 'pod' ? `http://${answer.pod}${this.upstream.service.path}` : SERVICE_ORIGIN + this.upstream.service.path,
      pinning: this.settings.pinning,
      protocolVersion,
      createdAt: now,
      lastSeenAt: now,
      lastReplicaId: this.replicaId,
      reinitCount: 0,
      generation: 0,
    };
    // Stored before the client hears of it, so its next request may reach any replica.
    await this.store.create(record, initializeBody);
    ex.sessionId = record.clientSessionId;
    if (this.events.wants('session.created')) {
      this.events.emit('session.created', {
        at: now, replicaId: this.replicaId, sessionId: record.clientSessionId, backendSessionId, pod: answer.pod, pinning: record.pinning,
      });
    }
    this.relayInitialize(ex, answer, record.clientSessionId);
  }

  /**
   * Sends a request on: to its session's pinned pod (or through the service, for `service`
   * pinning), or — no record — through the service. Then deals with what went wrong.
   * `fresh`: on a new connection (the retry after a reset).
   */
  private async forward(ex: Exchange, method: string, record: SessionRecord | null, body: Buffer | null, fresh = false): Promise<void> {
    const pod = record ? podOf(record.target) : SERVICE_POD;
    ex.pod = pod;
    const canRecover = record !== null && this.settings.recovery && !ex.recovered;
    const gone = record ? this.goneCause(pod) : null;
    if (record && gone) {
      // Sending would wait on a pod that stopped answering, or is gone: recover at once, as for a dead pod.
      if (canRecover || this.redial(ex)) return this.recoverAndReplay(ex, method, record, body, gone);
      if (!this.settings.recovery) return this.podGone(ex, record, body, gone);
    }
    if (ex.res.destroyed) return; // the client went away meanwhile: nothing to send
    const handler = this.relay(ex, method, record, body, canRecover, fresh);
    let outcome;
    try {
      outcome = await handler.done;
    } catch (error) {
      if (error instanceof ClientGoneError) return;
      if (error instanceof CallCutError) return this.afterCut(ex, method, record, body, error, null);
      const cause = transportCause(error);
      if (!cause) throw error;
      // Never written: the pod did not see it. Recover at once.
      if (!handler.requestStarted) {
        if (record && cause !== 'connect-reset') this.health.suspect(pod, cause);
        if (record && (canRecover || this.redial(ex))) return this.recoverAndReplay(ex, method, record, body, cause);
        if (record?.pinning === 'pod' && !this.settings.recovery) return this.podGone(ex, record, body, cause);
        throw error;
      }
      return this.afterReset(ex, method, record, body, cause);
    }
    if (outcome.kind === 'lost' && record) return this.recoverAndReplay(ex, method, record, body, outcome.signal);
  }

  /** The pod a recovery just gave died before the replay was written: recover again (counted), the request ran nowhere. */
  private redial(ex: Exchange): boolean {
    return this.settings.recovery && ex.recovered && ex.redials++ < MAX_REDIALS;
  }

  /** Why a pinned pod is not worth a request: it fails its probes, or (pods found by DNS) it left the service. */
  private goneCause(pod: string): 'pod-unhealthy' | 'pod-left' | null {
    if (!this.health.isHealthy(pod)) return 'pod-unhealthy';
    if (this.leftPods === 'recover' && this.upstream.service.hasLeft(pod)) return 'pod-left';
    return null;
  }

  /** Dispatches the request with a relay handler, registered as in flight on its pod until it settles. */
  private relay(ex: Exchange, method: string, record: SessionRecord | null, body: Buffer | null, inspect: boolean, fresh: boolean): RelayHandler {
    const pod = ex.pod ?? SERVICE_POD;
    const tap = mayListTools(body) ? new MessageTap((messages) => this.hints.learn(pod, messages)) : null;
    const sending = new Sending(this.sendings, ex, method, record, body, pod, inspect, tap);
    const handler = new RelayHandler(sending);
    sending.handler = handler;
    sending.entry = this.inflight.start(pod, ex.sessionId, method === 'GET', (error) => handler.interrupt(error));
    // A legacy SSE session's id travels in the target's query, not in a header.
    const out = { method, query: ex.query, headers: this.headersFor(ex, this.legacy ? null : record?.backendSessionId ?? null), body };
    if (record?.pinning === 'pod') void this.upstream.relayToPod(record.target, out, handler, fresh);
    else void this.upstream.relayViaService(out, handler, fresh);
    return handler;
  }

  /** What the relay handler of a sending reports, dealt with (see Sending). */
  private readonly sendings: SendingHooks = {
    head: (sending, status) => {
      const { ex } = sending;
      // A sessionless request: the service chose its pod when its connection was dialled; the event names that pod.
      if (!sending.record && sending.handler) ex.pod = this.upstream.podServing(sending.handler) ?? ex.pod;
      this.routed(ex, status);
    },
    cutAfterHead: (sending, error, sse) => {
      const { ex, method, record, body, pod } = sending;
      const cut = error instanceof CallCutError
        ? error
        : new CallCutError('reset-after-write', pod, `pod ${pod} closed the connection in the middle of its answer (${messageOf(error)})`);
      this.afterCut(ex, method, record, body, cut, sse).catch((failure: unknown) => this.fail(ex, failure));
    },
    settled: (sending) => {
      if (sending.entry) this.inflight.end(sending.entry);
    },
  };

  /** The client's headers for the pod. After a recovery, `Last-Event-ID` is left out: the new pod never issued it. */
  private headersFor(ex: Exchange, backendSessionId: string | null): string[] {
    let raw: readonly string[] = ex.req.rawHeaders;
    if (ex.recovered && hasHeader(raw, 'last-event-id')) {
      raw = withoutHeader(raw, 'last-event-id');
      ex.lastEventIdDropped = true;
    }
    return upstreamHeaders(raw, backendSessionId, undefined, ex.forwarded);
  }

  private async recoverAndReplay(ex: Exchange, method: string, record: SessionRecord, body: Buffer | null, cause: RecoveryCause): Promise<void> {
    let next: SessionRecord | typeof GONE;
    try {
      next = await unlessClientGone(ex.res, this.recoverer.recover(record, ex.req.rawHeaders, ex.query, cause));
    } catch (error) {
      if (error instanceof SessionGoneError) return this.unknownSession(ex, record.clientSessionId, body);
      if (error instanceof StoreUnavailableError) {
        // The request never ran (its pod refused it, or said the session was lost), and without the
        // store this replica cannot replay the session's initialize: another replica may have a copy.
        return this.storeUnavailable(ex, error, body, 'its initialize to re-initialize it with', `session ${sessionTag(record.clientSessionId)} lost its pod (${cause}); `);
      }
      const reason = messageOf(error);
      return this.reply(ex, 502, errorAnswer(body, INTERNAL_ERROR, `session ${sessionTag(record.clientSessionId)} lost its pod (${cause}) and could not be re-initialized: ${reason}`));
    }
    if (next === GONE) return; // the recovery goes on for the session's other requests
    ex.recovered = true;
    return this.forward(ex, method, next, body);
  }

  /**
   * The proxy cut a request under way: its pod stopped answering probes (or it outlived
   * `--upstream-timeout`). `sse` says how far the answer had got: null, nothing reached the
   * client yet; true/false, the head went out as an event stream / as something else.
   * Replayed on the recovered session (or through the service) when safe, else answered as
   * "outcome unknown"; a GET stream is closed so that the client reconnects.
   */
  private async afterCut(ex: Exchange, method: string, record: SessionRecord | null, body: Buffer | null, cut: CallCutError, sse: boolean | null): Promise<void> {
    const headed = sse !== null;
    if (method === 'GET') {
      this.ended(ex, body, cut.reason, 'stream-closed');
      if (headed || !record || cut.reason !== 'pod-unhealthy' || !this.settings.recovery || ex.recovered) {
        if (headed) ex.res.destroy();
        else this.reply(ex, 502, errorBody(INTERNAL_ERROR, cut.message));
        return;
      }
      return this.recoverAndReplay(ex, method, record, null, 'pod-unhealthy');
    }
    if (headed && !sse) {
      ex.res.destroy(); // half a JSON answer cannot be finished
      return;
    }
    if (headed) {
      ex.streaming = true;
      ex.res.write('\n\n'); // ends an event the pod left half-written
    }
    const replay = cut.reason !== 'upstream-timeout' && !ex.resent
      && (record === null || (this.settings.recovery && !ex.recovered))
      && replaySafe(this.settings.replayInFlight, method, body, cut.pod, this.hints);
    this.ended(ex, body, cut.reason, replay ? 'replayed' : 'unknown-outcome');
    if (!replay) return this.unknownOutcome(ex, body, `${cut.message}; the call may or may not have run`);
    ex.resent = true;
    if (record) return this.recoverAndReplay(ex, method, record, body, cut.reason === 'pod-unhealthy' ? 'pod-unhealthy' : 'connect-reset');
    return this.forward(ex, method, null, body, true); // the service now passes over that pod
  }

  /**
   * The pod reset the connection after the request was written: no proof it is gone, and no
   * telling whether it ran the request. Safe requests are sent once more on a fresh
   * connection to the same pod (if it is really gone, that dial fails and recovery starts);
   * a safe request whose retry was reset too is replayed on a recovered session (a published
   * Docker port accepts the dial of a dead container, then resets it); others are answered as
   * "outcome unknown".
   */
  private async afterReset(ex: Exchange, method: string, record: SessionRecord | null, body: Buffer | null, cause: RecoveryCause): Promise<void> {
    const pod = ex.pod ?? SERVICE_POD;
    const safe = replaySafe(this.settings.replayInFlight, method, body, pod, this.hints);
    const recover = safe && ex.resent && record !== null && this.settings.recovery && !ex.recovered;
    const retry = safe && !ex.resent;
    this.ended(ex, body, 'reset-after-write', retry ? 'retried' : recover ? 'replayed' : 'unknown-outcome');
    if (recover) return this.recoverAndReplay(ex, method, record, body, cause);
    if (!retry) {
      return this.unknownOutcome(ex, body, `${pod === SERVICE_POD ? 'the pod' : `pod ${pod}`} closed the connection after the request was sent (${cause}); the call may or may not have run`);
    }
    ex.resent = true;
    return this.forward(ex, method, record, body, true);
  }

  /** Answers a call whose fate is unknown with a JSON-RPC error of its own id(s). */
  private unknownOutcome(ex: Exchange, body: Buffer | null, message: string): void {
    const isCall = messagesOf(body)?.some((m) => 'id' in m && typeof m.method === 'string') ?? false;
    // A call gets its JSON-RPC answer (an error); a notification or junk, which expects none, a 502.
    this.reply(ex, isCall ? 200 : 502, errorAnswer(body, UNKNOWN_OUTCOME, message, { outcome: 'unknown', pod: ex.pod }));
  }

  /** DELETE goes to the pinned pod and the record goes, whatever the pod says; never recovered. */
  private async deleteSession(ex: Exchange, record: SessionRecord): Promise<void> {
    ex.pod = podOf(record.target);
    await this.store.delete(record.clientSessionId);
    let podStatus: number | null = null;
    if (this.health.isHealthy(ex.pod)) {
      try {
        const outcome = await this.relay(ex, 'DELETE', record, null, false, false).done;
        if (outcome.kind === 'relayed') podStatus = outcome.status;
      } catch (error) {
        if (error instanceof ClientGoneError) return;
        if (!(error instanceof CallCutError) && !transportCause(error)) throw error;
      }
    }
    // A pod that is gone, or stopped answering, has forgotten the session or will: the client's goal is met.
    if (podStatus === null) this.reply(ex, 204, null);
    if (this.events.wants('session.deleted')) {
      this.events.emit('session.deleted', { at: Date.now(), replicaId: this.replicaId, sessionId: record.clientSessionId, pod: ex.pod, podStatus });
    }
  }

  /**
   * Recovery is off and the session's pod is dead or gone: its record goes, and the client is
   * told the session is unknown (404), so that a client that follows the spec starts a new one
   * on a live pod — a 502/503 would repeat on every request, for as long as the record lives.
   * (Service pinning has no pod of its own to lose: a failure to reach the service stays a 502.)
   */
  private async podGone(ex: Exchange, record: SessionRecord, body: Buffer | null, cause: RecoveryCause): Promise<void> {
    await this.store.delete(record.clientSessionId);
    this.unknownSession(ex, record.clientSessionId, body);
    if (this.events.wants('session.deleted')) {
      this.events.emit('session.deleted', { at: Date.now(), replicaId: this.replicaId, sessionId: record.clientSessionId, pod: podOf(record.target), podStatus: null, podGone: cause });
    }
  }

  private unknownSession(ex: Exchange, sessionId: string, body: Buffer | null): void {
    const status = this.settings.unknownSessionStatus;
    this.reply(ex, status, errorAnswer(body, SESSION_NOT_FOUND, 'Session not found'));
    if (this.events.wants('session.unknown')) {
      this.events.emit('session.unknown', { at: Date.now(), replicaId: this.replicaId, sessionId, status });
    }
  }

  /** A pod's verdict changed: told as an event; a pod that stopped answering has what waits on it cut. */
  private judged(verdict: HealthVerdict): void {
    if (this.events.wants('pod.health')) this.events.emit('pod.health', { at: Date.now(), replicaId: this.replicaId, ...verdict });
    // A pod a request found refusing (byRequest) hangs nothing: what is under way there fails by itself.
    if (verdict.health !== 'unhealthy' || verdict.byRequest) return;
    for (const pod of this.health.namesOf(verdict.pod)) {
      const message = `pod ${pod} stopped answering its health probes (${verdict.reason})`;
      this.inflight.cutPod(pod, () => new CallCutError('pod-unhealthy', pod, message));
      this.upstream.dropServiceConnections(pod, new CallCutError('pod-unhealthy', pod, message));
    }
  }

  /** Registers an initialize (a client's, or recovery's replay) as in flight on the pod its connection reached. */
  private watchInitialize(sessionId: string | null): InitializeWatch {
    return (pod, cut) => {
      const entry = this.inflight.start(pod, sessionId, false, cut);
      return () => this.inflight.end(entry);
    };
  }

  private ended(ex: Exchange, body: Buffer | null, reason: InFlightEndReason, outcome: InFlightOutcome): void {
    if (!this.events.wants('inflight.ended')) return;
    this.events.emit('inflight.ended', {
      at: Date.now(), replicaId: this.replicaId, sessionId: ex.sessionId, pod: ex.pod ?? SERVICE_POD, rpcMethod: rpcMethodOf(body),
      reason, outcome, ageMs: performance.now() - ex.started,
    });
  }

  /** Writes an initialize answer to the client: held up to its response, then the rest streamed. */
  private relayInitialize(ex: Exchange, answer: InitializeAnswer, clientSessionId: SessionIdRewrite): void {
    ex.res.writeHead(answer.statusCode, downstreamHeaders(answer.headers, clientSessionId));
    this.routed(ex, answer.statusCode);
    if (!answer.rest) {
      ex.res.end(answer.head);
      return;
    }
    ex.res.write(answer.head);
    pipeline(answer.rest, ex.res, () => {
      // An upstream that dies mid-stream ends the client's stream; nothing more to do.
    });
  }

  /** Answers the client; into its event stream when one is already under way. */
  private reply(ex: Exchange, status: number, body: string | null, headers?: Readonly<Record<string, string>>): void {
    const { res } = ex;
    if (res.destroyed) return;
    if (res.headersSent) {
      if (ex.streaming && body) res.end(asEvents(body));
      else res.destroy();
      return;
    }
    if (body === null) res.writeHead(status, headers).end();
    else res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body);
    this.routed(ex, status);
  }

  private fail(ex: Exchange, error: unknown): void {
    if (error instanceof ClientGoneError) return;
    if (error instanceof CallCutError) return this.reply(ex, 502, errorBody(INTERNAL_ERROR, `bad gateway: ${error.message}`));
    const cause = transportCause(error);
    const what = ex.pod && ex.pod !== SERVICE_POD ? `pod ${ex.pod}` : 'the service';
    const message = cause
      ? `bad gateway: ${what} could not be reached (${cause}: ${messageOf(error)})`
      : `proxy error: ${messageOf(error)}`;
    this.reply(ex, cause ? 502 : 500, errorBody(INTERNAL_ERROR, message));
  }

  private routed(ex: Exchange, status: number): void {
    if (!this.events.wants('request.routed')) return;
    const event: ProxyEventMap['request.routed'] = {
      at: Date.now(), replicaId: this.replicaId, httpMethod: ex.req.method ?? 'GET', sessionId: ex.sessionId, pod: ex.pod,
      status, durationMs: performance.now() - ex.started, recovered: ex.recovered,
    };
    // The rare fields are added, not spread in: no object per request for a field left out.
    if (ex.lastEventIdDropped) event.lastEventIdDropped = true;
    if (ex.modern) Object.assign(event, modernOf(ex.req));
    this.events.emit('request.routed', event);
  }
}

/** What a relay handler reports about one sending, as the proxy deals with it (one object for all sendings). */
interface SendingHooks {
  head(sending: Sending, status: number): void;
  cutAfterHead(sending: Sending, error: Error, sse: boolean): void;
  settled(sending: Sending): void;
}

/**
 * One sending of an exchange's request to a pod: its relay handler's options, whose callbacks
 * are methods handing this object to the proxy's hooks — one object per sending rather than an
 * options object and a closure per callback.
 */
class Sending implements RelayOptions {
  readonly res: ProxyResponse;
  readonly clientSessionId: SessionIdRewrite;
  readonly inspect: typeof inspectLimit | null;
  readonly flushHead: boolean;
  readonly tap: MessageTap | null;
  readonly continueStream: boolean;
  readonly ex: Exchange;
  readonly method: string;
  readonly record: SessionRecord | null;
  readonly body: Buffer | null;
  readonly pod: string;
  handler: RelayHandler | null = null;
  entry: InFlightEntry | null = null;
  private readonly hooks: SendingHooks;

  constructor(
    hooks: SendingHooks, ex: Exchange, method: string, record: SessionRecord | null, body: Buffer | null, pod: string, inspect: boolean, tap: MessageTap | null,
  ) {
    this.hooks = hooks;
    this.res = ex.res;
    this.clientSessionId = record ? record.clientSessionId : DROP_SESSION_ID;
    this.inspect = inspect ? inspectLimit : null;
    this.flushHead = method === 'GET';
    this.tap = tap;
    this.continueStream = ex.streaming;
    this.ex = ex;
    this.method = method;
    this.record = record;
    this.body = body;
    this.pod = pod;
  }

  onHead(status: number): void {
    // A continued stream was routed when its head went out: one routed event per request.
    if (!this.continueStream) this.hooks.head(this, status);
  }

  onCutAfterHead(error: Error, sse: boolean): void {
    this.hooks.cutAfterHead(this, error, sse);
  }

  onSettled(): void {
    this.hooks.settled(this);
  }
}

const GONE = Symbol('client gone');
/** On a 503 the replica answered without sending the request anywhere: try again (here or elsewhere) in a second. */
const RETRY_SOON = { 'retry-after': '1' } as const;
/** Recoveries a request may go through after its first, when the recovered pod died before the replay was written (see `Exchange.redials`). */
const MAX_REDIALS = 2;

/** What a routed event tells of a modern request: its era, and its `Mcp-Method` / `Mcp-Name` where it sent them. */
function modernOf(req: ProxyRequest): { era: 'modern'; mcpMethod?: string; mcpName?: string } {
  const { method, name } = mcpHeadersOf(req.headers);
  return { era: 'modern', ...(method === undefined ? {} : { mcpMethod: method }), ...(name === undefined ? {} : { mcpName: name }) };
}

/** Waits for `work`, or gives GONE as soon as the client has gone away (the work goes on, for others). */
function unlessClientGone<T>(res: ProxyResponse, work: Promise<T>): Promise<T | typeof GONE> {
  if (res.destroyed) {
    work.catch(() => {}); // nobody here to tell; a failure is the session's next request's to meet
    return Promise.resolve(GONE);
  }
  return new Promise((resolve, reject) => {
    const gone = () => resolve(GONE);
    res.once('close', gone);
    work.then(
      (value) => {
        res.off('close', gone);
        resolve(value);
      },
      (error: unknown) => {
        res.off('close', gone);
        reject(error);
      },
    );
  });
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
