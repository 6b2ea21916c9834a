import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProxyConfig } from './config.ts';
import { ProxyEvents } from './events.ts';
import { closeServer, createMetricsServer, createProxyServer } from './http/server.ts';
import { logEvents, type Logger } from './log.ts';
import { ProxyMetrics } from './metrics.ts';
import { McpProxy } from './proxy.ts';
import { openStore, redactUrl } from './store/open.ts';

export interface RunningProxy {
  proxy: McpProxy;
  server: Server;
  /** The server of `--metrics-port`; null when metrics are on the MCP port. */
  metricsServer: Server | null;
  metrics: ProxyMetrics;
  /** The MCP URL clients use. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Opens the store, starts the proxy and its HTTP server; what `pinlab-proxy` runs. */
export async function startProxy(config: ProxyConfig, log: Logger, events = new ProxyEvents()): Promise<RunningProxy> {
  const { store, fallback } = await openStore(
    { store: config.store, redisUrl: config.redisUrl, keyPrefix: config.keyPrefix, ttlSeconds: config.sessionTtl, required: config.storeRequired },
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
  const proxy = new McpProxy({
    replicaId: config.replicaId,
    backends: config.backends,
    store,
    pinning: config.pinning,
    recovery: config.recovery,
    unknownSessionStatus: config.unknownSessionStatus,
    replayInFlight: config.replayInFlight,
    maxBodyBytes: config.maxBody,
    maxInitializeBytes: config.maxInitialize,
    health: { intervalMs: config.healthIntervalMs, timeoutMs: config.healthTimeoutMs, unhealthyAfter: config.unhealthyAfter },
    upstreamTimeoutMs: config.upstreamTimeoutMs,
    events,
  });
  const stopLogging = logEvents(events, log);
  const metrics = new ProxyMetrics(proxy, { processMetrics: true });
  const server = createProxyServer(proxy, config.metricsPort === null ? { metrics } : {});
  const metricsServer = config.metricsPort === null ? null : createMetricsServer(proxy, metrics);
  try {
    await listen(server, config.port, config.host, '--port');
    if (metricsServer) await listen(metricsServer, config.metricsPort as number, config.host, '--metrics-port');
  } catch (error) {
    await closeServer(server);
    stopLogging();
    metrics.close();
    await proxy.close();
    await store.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}/mcp`;
  log('info', `pinlab-proxy ${config.replicaId} listening on ${url}`, {
    backends: config.backends, store: fallback ? 'memory (fallback)' : config.store,
    ...(config.store === 'redis' ? { redis: redactUrl(config.redisUrl) } : {}), pinning: config.pinning, recovery: config.recovery ? 'on' : 'off',
    health: config.healthIntervalMs > 0 ? `every ${config.healthIntervalMs} ms, timeout ${config.healthTimeoutMs} ms, unhealthy after ${config.unhealthyAfter}` : 'off',
    replayInFlight: config.replayInFlight,
    metrics: metricsServer ? `http://${host}:${(metricsServer.address() as AddressInfo).port}/metrics` : `${url.replace(/\/mcp$/, '')}/metrics`,
  });
  return {
    proxy, server, metricsServer, metrics, url, port,
    async close() {
      await closeServer(server);
      if (metricsServer) await closeServer(metricsServer);
      stopLogging();
      metrics.close();
      await proxy.close();
      await store.close();
    },
  };
}

async function listen(server: Server, port: number, host: string, flag: string): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
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
