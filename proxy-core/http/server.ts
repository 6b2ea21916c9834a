import { createServer, type Server } from 'node:http';
import { DEFAULTS } from '../config.ts';
import type { ProxyMetrics } from '../metrics.ts';
import type { McpProxy } from '../proxy.ts';
import type { Drain } from './drain.ts';
import { leanFront, type LeanFrontStats } from './lean-front.ts';
import type { ProxyRequest, ProxyResponse } from './request-response.ts';

export interface ProxyServerOptions {
  /** The MCP path clients use (default `/mcp`). */
  path?: string;
  /** Served at `GET /metrics` on this server; leave it out when a metrics server of its own serves them. */
  metrics?: ProxyMetrics;
  /** Which `--workers` worker this server is (from 1): `/healthz` says so. */
  worker?: number;
  /** Without `metrics`: what a `GET /metrics` is told (404) about where they are. */
  metricsHint?: string;
  /** The graceful stop every request of this server is admitted by (probes and scrapes too: their connections must close as well); `/readyz` says 503 once it runs. */
  drain?: Drain;
  /**
   * Who reads clients' requests: `lean` (the default) — a session's plain POSTs read off the
   * socket by the proxy's own minimal HTTP/1.1 reader (lean-front.ts), anything else by
   * node:http — or node:http for all.
   */
  front?: HttpFront;
  /** The proxy's `--max-body`: the lean front reads bodies up to it (at most LEAN_BODY_LIMIT); larger ones go to node:http, and the proxy's 413. */
  maxBodyBytes?: number;
}

/**
 * The listen backlog of the proxy's and the lab's listeners. Node accepts one connection per
 * loop turn, so a burst of clients connecting while the loop is busy waits in the kernel's
 * accept queue; past Node's default of 511 the kernel drops their SYNs, and a client that
 * loses three in a row fails with a connect timeout, not a slow answer. Linux caps it at
 * net.core.somaxconn (4096 since 5.4).
 */
export const LISTEN_BACKLOG = 4096;

export const HTTP_FRONTS = ['node', 'lean'] as const;
/** The most of a body the lean front holds before it hands the request to the proxy. */
const LEAN_BODY_LIMIT = 1024 * 1024;
export type HttpFront = (typeof HTTP_FRONTS)[number];

const leanStats = new WeakMap<Server, LeanFrontStats>();

/** What the lean front did on a server `createProxyServer` made with `front: 'lean'`; null for node's front. */
export function leanFrontStats(server: Server): LeanFrontStats | null {
  return leanStats.get(server) ?? null;
}

/** The proxy's HTTP front: the MCP path, `GET /healthz`, `GET /readyz`, and `GET /metrics` when given metrics. */
export function createProxyServer(proxy: McpProxy, options: ProxyServerOptions = {}): Server {
  const path = options.path ?? '/mcp';
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    options.drain?.admit(req, res);
    const pathname = pathOf(req);
    if (pathname === path) void proxy.handle(req, res);
    else if (!serveOps(proxy, options, pathname, req, res)) notFound(req, res, pathname === '/metrics' && options.metricsHint ? options.metricsHint : `MCP is served on ${path}`);
  });
  if ((options.front ?? DEFAULTS.httpFront) === 'lean') leanStats.set(server, leanFront(server, { maxBodyBytes: Math.min(options.maxBodyBytes ?? LEAN_BODY_LIMIT, LEAN_BODY_LIMIT) }));
  return server;
}

/** `/metrics`, `/healthz` and `/readyz` on a port apart from the MCP port (`--metrics-port`), so that one can be exposed without the other. */
export function createMetricsServer(proxy: McpProxy, metrics: ProxyMetrics, drain?: Drain): Server {
  return createServer((req, res) => {
    if (!serveOps(proxy, { metrics, drain }, pathOf(req), req, res)) notFound(req, res, 'this port serves /metrics, /healthz and /readyz');
  });
}

/** Stops accepting and cuts every open connection (SSE streams included), as a crash would. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * The probes' paths and metrics. `/healthz` is liveness: the process answers. `/readyz` is
 * readiness: 503 from the moment a drain starts (SIGTERM), else 200 — whatever Redis or the pods
 * do: every replica shares them, and a readiness tied to them would take all replicas out of the
 * Service at once, turning the degraded service of a Redis outage (sessions served from each
 * replica's copies) or a pod outage (answered with a clear error) into connection refusals.
 */
function serveOps(proxy: McpProxy, { metrics, drain, worker }: Pick<ProxyServerOptions, 'metrics' | 'drain' | 'worker'>, pathname: string, req: ProxyRequest, res: ProxyResponse): boolean {
  if (req.method !== 'GET') return false;
  if (pathname === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', replica: proxy.replicaId, store: proxy.store.kind, ...(worker ? { worker } : {}) }));
    return true;
  }
  if (pathname === '/readyz') {
    const draining = drain?.draining ?? false;
    res.writeHead(draining ? 503 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: draining ? 'draining' : 'ready', replica: proxy.replicaId }));
    return true;
  }
  if (pathname === '/metrics' && metrics) {
    const { registry } = metrics;
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(error.message),
    );
    return true;
  }
  return false;
}

function notFound(req: ProxyRequest, res: ProxyResponse, hint: string): void {
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: `no route for ${req.method} ${pathOf(req)}; ${hint}` }));
}

function pathOf(req: ProxyRequest): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
