import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULTS, type ProxyConfig } from './config.ts';
import { ProxyEvents } from './events.ts';
import { Drain, type DrainOutcome } from './http/drain.ts';
import { closeServer, createMetricsServer, createProxyServer, LISTEN_BACKLOG } from './http/server.ts';
import { logEvents, type Logger } from './log.ts';
import { ProxyMetrics } from './metrics.ts';
import { McpProxy } from './proxy.ts';
import { openStore, redactUrl } from './store/open.ts';
import { DnsDiscovery, type BackendDns } from './upstream/dns.ts';

export interface RunningProxy {
  proxy: McpProxy;
  server: Server;
  /** The server of `--metrics-port`; null when metrics are on the MCP port. */
  metricsServer: Server | null;
  metrics: ProxyMetrics;
  /** The MCP URL clients use. */
  url: string;
  port: number;
  /** Stops at once: the listener closes and every connection is cut, streams included (a crash, as the lab's restart wants). */
  close(): Promise<void>;
  /**
   * Stops gracefully (SIGTERM): `/readyz` answers 503 at once, connections are still taken for
   * `shutdownDelayMs`, then what is in flight finishes — event streams end after their current
   * event — within `shutdownTimeoutMs`, and everything closes. Past the timeout, what is left is
   * cut: the outcome says so.
   */
  shutdown(): Promise<DrainOutcome>;
}

/** Which of `pinlab-proxy --workers N`'s workers this proxy is (see workers.ts). */
export interface WorkerRole {
  /** From 1. */
  index: number;
  count: number;
}

/**
 * Opens the store, starts the proxy and its HTTP server; what `pinlab-proxy` runs. A `worker`
 * shares its port with its siblings (SO_REUSEPORT) and leaves `/metrics` to the primary.
 */
export async function startProxy(config: ProxyConfig, log: Logger, events = new ProxyEvents(), worker: WorkerRole | null = null): Promise<RunningProxy> {
  const { store, fallback, waitingFor } = await openStore(
    {
      store: config.store, redisUrl: config.redisUrl, keyPrefix: config.keyPrefix, ttlSeconds: config.sessionTtl,
      required: config.storeRequired, awaitRedis: config.awaitRedis,
    },
    {
      onError: (operation, error) => {
        if (events.wants('store.error')) {
          events.emit('store.error', { at: Date.now(), replicaId: config.replicaId, operation, message: error instanceof Error ? error.message : String(error) });
        }
      },
      onRestored: (flushed) => {
        if (events.wants('store.restored')) events.emit('store.restored', { at: Date.now(), replicaId: config.replicaId, flushed });
      },
    },
  );
  if (fallback) {
    log('warn', `!!! ${fallback.reason}: FALLING BACK TO THE MEMORY STORE. Sessions are NOT shared between replicas and die with this one. Pass --store-required to refuse to start instead.`);
  }
  if (waitingFor) log('warn', `${waitingFor}: serving sessions from this replica's own copies until it answers, then writing them to it`);
  const stopLogging = logEvents(events, log);
  let follow = (_urls: string[]): void => {};
  const discovery = config.backendDns ? await discoverPods(config, config.backendDns, events, log, (urls) => follow(urls)) : null;
  const proxy = new McpProxy({
    replicaId: config.replicaId,
    backends: discovery ? discovery.current : config.backends,
    path: discovery?.target.path,
    leftPods: discovery ? 'recover' : 'keep',
    store,
    pinning: config.pinning,
    recovery: config.recovery,
    unknownSessionStatus: config.unknownSessionStatus,
    replayInFlight: config.replayInFlight,
    maxBodyBytes: config.maxBody,
    maxInitializeBytes: config.maxInitialize,
    health: { intervalMs: config.healthIntervalMs, timeoutMs: config.healthTimeoutMs, unhealthyAfter: config.unhealthyAfter },
    upstreamTimeoutMs: config.upstreamTimeoutMs,
    sessionTtlSeconds: config.sessionTtl,
    events,
  });
  follow = (urls) => proxy.setBackends(urls);
  const metrics = new ProxyMetrics(proxy, { processMetrics: true });
  const drain = new Drain();
  const front = { front: config.httpFront ?? DEFAULTS.httpFront, maxBodyBytes: config.maxBody };
  const server = createProxyServer(proxy, {
    ...front, ...(worker ? { drain, worker: worker.index, metricsHint: WORKERS_METRICS_HINT } : config.metricsPort === null ? { metrics, drain } : { drain }),
  });
  const metricsServer = config.metricsPort === null || worker ? null : createMetricsServer(proxy, metrics, drain);
  let closing: Promise<void> | null = null;
  /** Everything but the MCP listener, once. */
  const closeRest = () => (closing ??= (async () => {
    discovery?.close();
    if (metricsServer) await closeServer(metricsServer);
    stopLogging();
    metrics.close();
    await proxy.close();
    await store.close();
  })());
  try {
    await listen(server, config.port, config.host, '--port', worker !== null);
    if (metricsServer) await listen(metricsServer, config.metricsPort as number, config.host, '--metrics-port');
  } catch (error) {
    await closeServer(server);
    await closeRest();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}/mcp`;
  log('info', worker ? `worker ${worker.index} of ${worker.count} ready on ${url}` : `pinlab-proxy ${config.replicaId} listening on ${url}`, {
    ...(discovery ? { backendDns: describeDns(discovery.target), pods: discovery.current } : { backends: config.backends }), store: fallback ? 'memory (fallback)' : config.store,
    ...(config.store === 'redis' ? { redis: redactUrl(config.redisUrl) } : {}), pinning: config.pinning, recovery: config.recovery ? 'on' : 'off',
    health: config.healthIntervalMs > 0 ? `every ${config.healthIntervalMs} ms, timeout ${config.healthTimeoutMs} ms, unhealthy after ${config.unhealthyAfter}` : 'off',
    replayInFlight: config.replayInFlight, httpFront: front.front,
    metrics: worker ? 'served by the primary' : metricsServer ? `http://${host}:${(metricsServer.address() as AddressInfo).port}/metrics` : `${url.replace(/\/mcp$/, '')}/metrics`,
  });
  const delayMs = config.shutdownDelayMs ?? DEFAULTS.shutdownDelayMs;
  const timeoutMs = config.shutdownTimeoutMs ?? DEFAULTS.shutdownTimeoutMs;
  return {
    proxy, server, metricsServer, metrics, url, port,
    async close() {
      await closeServer(server);
      await closeRest();
    },
    async shutdown() {
      log('info', `draining: /readyz answers 503; connections are still taken for ${delayMs / 1000} s (--shutdown-delay)`);
      const outcome = await drain.run(server, {
        delayMs, timeoutMs,
        onListenerClosed: (inFlight, streams) => log('info', `no longer taking connections: ${inFlight} answer(s) under way, ${streams} of them GET streams ended after their current event; up to ${timeoutMs / 1000} s to finish (--shutdown-timeout)`),
      });
      if (outcome.kind === 'timed-out') log('error', `shutdown timeout: ${outcome.cut} answer(s) still under way after ${timeoutMs / 1000} s (--shutdown-timeout) were cut`);
      await closeRest();
      return outcome;
    },
  };
}

/**
 * Finds the pods by DNS (`--backend-dns`): looks the name up now, then every `--dns-refresh`;
 * `follow` gets each new answer's pod URLs. Changes and failures are events (and log lines).
 */
async function discoverPods(config: ProxyConfig, target: BackendDns, events: ProxyEvents, log: Logger, follow: (urls: string[]) => void): Promise<DnsDiscovery> {
  const { replicaId } = config;
  const discovery = new DnsDiscovery(target, { refreshMs: config.dnsRefreshMs ?? DEFAULTS.dnsRefreshMs, server: config.dnsServer ?? null }, {
    changed: (urls, change) => {
      follow(urls);
      if (events.wants('dns.changed')) events.emit('dns.changed', { at: Date.now(), replicaId, name: target.name, ...change });
    },
    failed: (message, failures, kept) => {
      if (events.wants('dns.failed')) events.emit('dns.failed', { at: Date.now(), replicaId, name: target.name, message, failures, kept });
    },
    restored: (failures) => log('info', `DNS answers for ${target.name} again, after ${failures} failed lookup(s)`),
  });
  await discovery.start();
  return discovery;
}

function describeDns(target: BackendDns): string {
  return `${target.name}:${target.port}${target.path}`;
}

/** What `/metrics` on the MCP port answers (404) under `--workers`. */
const WORKERS_METRICS_HINT = 'with --workers, /metrics is served by the primary on --metrics-port, summed over the workers';

/** `shared`: a `--workers` worker, bound with SO_REUSEPORT beside its siblings rather than through the cluster primary. */
async function listen(server: Server, port: number, host: string, flag: string, shared = false): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host, backlog: LISTEN_BACKLOG, ...(shared ? { reusePort: true, exclusive: true } : {}) }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`port ${port} on ${host} is already in use (choose another with ${flag})`, { cause: error });
    if (code === 'EADDRNOTAVAIL') throw new Error(`address ${host} is not an address of this machine (--host)`, { cause: error });
    throw error;
  }
}
