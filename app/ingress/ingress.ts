import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import { NotServedError, RelayHandler, type BodyTap } from '../../proxy-core/http/relay.ts';
import { readRequestBody } from '../../proxy-core/http/body.ts';
import { upstreamHeaders } from '../../proxy-core/http/headers.ts';
import { LISTEN_BACKLOG } from '../../proxy-core/http/server.ts';
import { transportCause } from '../../proxy-core/upstream/upstream.ts';
import { keepWhileOpen } from '../../proxy-core/while-open.ts';
import { MessageTap } from '../../proxy-core/replay-safety.ts';
import { isSimulatedClient } from '../shared/client-faults.ts';
import { AFFINITY_COOKIE, chooseReplica, type AffinityPolicy } from './affinity.ts';
import { callsOf, peekClient, type ClientInfo, type ClientPeek, type RpcCall } from './client-peek.ts';

/** The ingress buffers a body to retry it on another replica; the replicas bound it more tightly. */
const MAX_BODY = 16 * 1024 * 1024;

/** A client that named itself at the ingress: an initialize answered, or a 2026-07-28 request. */
export interface ClientSeen {
  at: number;
  /** The session the initialize's answer named; null for a client without sessions. */
  sessionId: string | null;
  clientInfo: ClientInfo;
  /** One of the lab's own clients (`pinlab-client-N`); anything else came from outside. */
  simulated: boolean;
  /** The client's address as the ingress's socket saw it. */
  remoteAddress: string | null;
}

/** One request through the ingress, as seen from outside its client (what a client check judges). */
export interface IngressExchange {
  /** Epoch ms the request arrived. */
  at: number;
  httpMethod: string;
  /** The request's `Mcp-Session-Id`. */
  sessionId: string | null;
  /** Who the body says sent it (an initialize, or a 2026-07-28 request's `_meta`). */
  clientInfo: ClientInfo | null;
  initialize: boolean;
  /** The JSON-RPC requests of a POST body. */
  calls: RpcCall[];
  /** The answer's status; null while (or when) none came. */
  status: number | null;
  /** The `Mcp-Session-Id` of the answer (an initialize's new session). */
  answeredSessionId: string | null;
  /** Calls answered with a JSON-RPC error inside a 200 answer, with its code. */
  rpcErrors: { id: string | number; code: number | null }[];
  /** Epoch ms the exchange ended; null until then. */
  endedAt: number | null;
  /** The answer reached its end (not cut, the client did not go away). */
  complete: boolean;
}

/** Called when an exchange's answer head went out (`head`: a GET stream is open) and when it ended. */
export type IngressObserver = (phase: 'head' | 'end', exchange: IngressExchange) => void;

/** 2026-07-28 clients name themselves on every request: each is told once (bounded memory). */
const MAX_SESSIONLESS_CLIENTS = 1000;

export interface IngressTarget {
  id: string;
  /** `http://127.0.0.1:<port>` of the replica. */
  origin: string;
  /** Goes up each time the replica (re)starts: connections kept alive to an earlier run are never reused. */
  generation: number;
}

/**
 * The lab's front door: one fixed port, spreading requests over the live replicas by the
 * affinity policy. Like a Kubernetes Service in front of the proxy Deployment, it knows only
 * ready replicas; a connection a replica refuses is tried on the next one (nothing was sent).
 */
export class Ingress {
  policy: AffinityPolicy;
  private readonly server: Server;
  /**
   * Kept-alive connections per replica run. A restarted replica listens on the same port: a
   * connection to its previous run, closed as it stopped, must not carry a request (under load
   * the close may not have been read yet, and the request would die with it).
   */
  private readonly pools = new Map<string, { generation: number; pool: Pool }>();
  private readonly targets: () => IngressTarget[];
  private rr = 0;
  private port = 0;
  /** Requests (not GET streams) under way per replica: what a drain waits for. */
  private readonly inflight = new Map<string, number>();
  /** Open GET streams per client session: what `cutStreams` cuts. */
  private readonly streams = new Map<string, Set<ServerResponse>>();
  private readonly observers = new Set<IngressObserver>();
  private readonly onClient: (seen: ClientSeen) => void;
  private readonly sessionlessSeen = new Set<string>();

  constructor(options: { policy: AffinityPolicy; targets: () => IngressTarget[]; onClient?: (seen: ClientSeen) => void }) {
    this.policy = options.policy;
    this.targets = options.targets;
    this.onClient = options.onClient ?? (() => {});
    this.server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => void this.route(req, res));
  }

  /** Listens on `host:port`; a taken port is an error that says so. */
  async listen(port: number, host: string): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        reject(error.code === 'EADDRINUSE'
          ? new Error(`the ingress port ${port} on ${host} is already in use: stop what uses it, or choose another ingress port`, { cause: error })
          : error);
      };
      this.server.once('error', onError);
      this.server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this.url(host);
  }

  url(host = '127.0.0.1'): string {
    return `http://${host}:${this.port}/mcp`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    await Promise.all([...this.pools.values()].map(({ pool }) => pool.destroy()));
  }

  /**
   * Resolves once the replica has no request under way, or after `timeoutMs` with how many it
   * still has (they will be cut): called after the replica left the target list, so nothing
   * new reaches it. GET streams are not waited for: clients reconnect them.
   */
  async drain(replicaId: string, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while ((this.inflight.get(replicaId) ?? 0) > 0 && Date.now() < deadline) await sleep(10);
    return this.inflight.get(replicaId) ?? 0;
  }

  /**
   * Sees every exchange from now on (at a cost: request bodies parsed, answers tapped for
   * JSON-RPC errors) until the returned function is called. Nothing is spent while none watches.
   */
  observe(observer: IngressObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** Cuts the session's open GET streams, as a dropped connection would; answers how many. */
  cutStreams(sessionId: string): number {
    const open = [...(this.streams.get(sessionId) ?? [])];
    for (const res of open) res.destroy();
    return open.length;
  }

  /** The session's open GET streams. */
  openStreams(sessionId: string): number {
    return this.streams.get(sessionId)?.size ?? 0;
  }

  private poolFor(target: IngressTarget): Pool {
    let entry = this.pools.get(target.id);
    if (entry?.generation !== target.generation) {
      void entry?.pool.destroy();
      entry = { generation: target.generation, pool: new Pool(target.origin, { bodyTimeout: 0, connect: { timeout: 2000 } }) };
      this.pools.set(target.id, entry);
    }
    return entry.pool;
  }

  private track(replicaId: string, res: ServerResponse): void {
    this.inflight.set(replicaId, (this.inflight.get(replicaId) ?? 0) + 1);
    res.once('close', () => this.inflight.set(replicaId, (this.inflight.get(replicaId) ?? 1) - 1));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const sessionHeader = req.headers['mcp-session-id'];
    const sessionId = typeof sessionHeader === 'string' ? sessionHeader : null;
    let body: Buffer | null = null;
    if (req.method === 'POST') {
      try {
        body = await readRequestBody(req, MAX_BODY);
      } catch (error) {
        res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
        res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32600, message: (error as Error).message } }));
        return;
      }
    }
    const peek = body ? peekClient(body) : null;
    const exchange = this.observers.size > 0 ? exchangeOf(req, sessionId, body, peek) : null;
    if (exchange) res.once('close', () => this.ended(exchange, res));
    if (req.method === 'GET' && sessionId) keepWhileOpen(this.streams, sessionId, res);
    const tried = new Set<string>();
    for (;;) {
      const targets = this.targets().filter((t) => !tried.has(t.id));
      const id = chooseReplica(this.policy, req, targets.map((t) => t.id), () => this.rr++);
      const target = targets.find((t) => t.id === id);
      if (!target) {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'no proxy replica is running behind the ingress' } }));
        return;
      }
      tried.add(target.id);
      if (req.method !== 'GET') this.track(target.id, res);
      if (this.policy === 'cookie') res.setHeader('set-cookie', `${AFFINITY_COOKIE}=${target.id}; Path=/; HttpOnly; SameSite=Strict`);
      res.setHeader('x-pinlab-replica', target.id);
      const handler = new RelayHandler({
        res, clientSessionId: null, inspect: null, flushHead: req.method === 'GET',
        tap: peek || exchange ? this.tapFor(req, peek, exchange) : null,
        onHead: exchange ? () => this.notify('head', exchange) : undefined,
        // A replica's 503 with Retry-After sent the request nowhere (Redis away, no copy of the session): another may serve it, as an ingress controller's retry on 503 would.
        notServed: (status, headers) => status === 503 && headers['retry-after'] !== undefined && this.targets().some((t) => !tried.has(t.id)),
      });
      this.poolFor(target).dispatch({
        origin: target.origin, path: req.url ?? '/mcp', method: (req.method ?? 'GET') as 'GET',
        headers: upstreamHeaders(req.rawHeaders, sessionId), body,
      }, handler);
      try {
        await handler.done;
        return;
      } catch (error) {
        // Refused, or closed before the request went out (a kept-alive connection the replica
        // closed as it stopped): that replica never saw it; try another.
        if ((error as { code?: string }).code === 'ECONNREFUSED' || (!handler.requestStarted && transportCause(error) !== null)) continue;
        if (error instanceof NotServedError) continue;
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: `replica ${target.id} failed: ${(error as Error).message}` } }));
        }
        return;
      }
    }
  }

  /** Reads the answer's head (the session an initialize opened) and, for an observer, the calls' errors. */
  private tapFor(req: IncomingMessage, peek: ClientPeek | null, exchange: IngressExchange | null): BodyTap {
    const errors = exchange && exchange.calls.length > 0
      ? new MessageTap((messages) => {
        for (const m of messages) {
          if ((typeof m.id !== 'string' && typeof m.id !== 'number') || typeof m.error !== 'object' || m.error === null) continue;
          const code = (m.error as { code?: unknown }).code;
          exchange.rpcErrors.push({ id: m.id, code: typeof code === 'number' ? code : null });
        }
      })
      : null;
    return {
      start: (status: number, headers: IncomingHttpHeaders) => {
        const header = headers['mcp-session-id'];
        const answered = typeof header === 'string' ? header : null;
        if (exchange) {
          exchange.status = status;
          exchange.answeredSessionId = answered;
        }
        if (peek && status >= 200 && status < 300) this.seen(req, peek, answered);
        errors?.start(status, headers);
      },
      data: (chunk: Buffer) => errors?.data(chunk),
      end: () => errors?.end(),
    };
  }

  /** Tells of a client that named itself: every initialize, and each sessionless client once. */
  private seen(req: IncomingMessage, peek: ClientPeek, sessionId: string | null): void {
    const remoteAddress = req.socket.remoteAddress ?? null;
    if (!peek.initialize) {
      const key = `${peek.clientInfo.name}\0${peek.clientInfo.version}\0${remoteAddress}`;
      if (this.sessionlessSeen.has(key) || this.sessionlessSeen.size >= MAX_SESSIONLESS_CLIENTS) return;
      this.sessionlessSeen.add(key);
    }
    this.onClient({ at: Date.now(), sessionId, clientInfo: peek.clientInfo, simulated: isSimulatedClient(peek.clientInfo.name), remoteAddress });
  }

  private ended(exchange: IngressExchange, res: ServerResponse): void {
    exchange.endedAt = Date.now();
    exchange.complete = res.writableFinished;
    // An answer the ingress wrote itself (no replica, a replica that failed) went by no tap.
    if (exchange.status === null && res.headersSent) exchange.status = res.statusCode;
    this.notify('end', exchange);
  }

  private notify(phase: 'head' | 'end', exchange: IngressExchange): void {
    for (const observer of this.observers) observer(phase, exchange);
  }
}

function exchangeOf(req: IncomingMessage, sessionId: string | null, body: Buffer | null, peek: ClientPeek | null): IngressExchange {
  return {
    at: Date.now(), httpMethod: req.method ?? 'GET', sessionId, clientInfo: peek?.clientInfo ?? null, initialize: peek?.initialize ?? false,
    calls: callsOf(body), status: null, answeredSessionId: null, rpcErrors: [], endedAt: null, complete: false,
  };
}
