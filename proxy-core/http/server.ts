import { createServer, type Server } from 'node:http';
import type { ProxyMetrics } from '../metrics.ts';
import type { McpProxy } from '../proxy.ts';

export interface ProxyServerOptions {
  /** The MCP path clients use (default `/mcp`). */
  path?: string;
  metrics?: ProxyMetrics;
}

/** The proxy's HTTP front: the MCP path, `GET /healthz`, `GET /metrics`. */
export function createProxyServer(proxy: McpProxy, options: ProxyServerOptions = {}): Server {
  const path = options.path ?? '/mcp';
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    if (pathname === path) {
      void proxy.handle(req, res);
    } else if (pathname === '/healthz' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'ok', replica: proxy.replicaId, store: proxy.store.kind }));
    } else if (pathname === '/metrics' && req.method === 'GET' && options.metrics) {
      const { registry } = options.metrics;
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(error.message),
      );
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `no route for ${req.method} ${pathname}; MCP is served on ${path}` }));
    }
  });
  return server;
}

/** Stops accepting and cuts every open connection (SSE streams included), as a crash would. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
