import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { readRequestBody } from '../../proxy-core/http/body.ts';
import { rootPath } from '../paths.ts';
import { commandArgs, type Command } from '../api/contract.ts';
import type { LabService } from '../api/lab-service.ts';

export interface WebServerOptions {
  service: LabService;
  port: number;
  host: string;
  /** Listening beyond loopback exposes the lab's controls to the network: only when asked by name. */
  dangerouslyAllowRemote?: boolean;
  /** The built renderer (electron-vite's out/renderer); a plain page says how to build it when absent. */
  rendererDir?: string;
}

export interface WebServer {
  /** The address to open: it carries the per-run token. */
  url: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const DEFAULT_RENDERER = rootPath('out', 'renderer');
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json', '.woff2': 'font/woff2', '.ico': 'image/x-icon',
};

/**
 * Web mode: the lab's typed API over HTTP (`/api/…`) and a WebSocket (`/api/events`), and
 * the renderer, on 127.0.0.1. Every API call needs the per-run token; requests from another
 * origin, or naming another host (DNS rebinding), are refused.
 */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  if (!LOOPBACK.has(options.host) && !options.dangerouslyAllowRemote) {
    throw new Error(`refusing to listen on ${options.host}: the lab's controls would be open to the network. Use --host 127.0.0.1, or pass --dangerously-allow-remote if you mean it`);
  }
  const token = randomBytes(24).toString('base64url');
  const rendererDir = options.rendererDir ?? DEFAULT_RENDERER;
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      if (!res.headersSent) json(res, 500, { error: { message: error.message } });
      else res.destroy();
    });
  });
  const sockets = new WebSocketServer({ noServer: true });
  let port = 0;

  const ownOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`, `http://${options.host}:${port}`]);
  const allowedHost = (req: IncomingMessage) => {
    const host = req.headers.host ?? '';
    return options.dangerouslyAllowRemote || [...ownOrigins()].some((origin) => origin === `http://${host}`);
  };
  const allowedOrigin = (req: IncomingMessage) => !req.headers.origin || ownOrigins().has(req.headers.origin);
  const hasToken = (req: IncomingMessage, url: URL) => {
    const given = req.headers.authorization?.replace(/^Bearer /, '') ?? url.searchParams.get('token') ?? '';
    return given.length === token.length && timingSafeEqual(Buffer.from(given), Buffer.from(token));
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://pinlab');
    if (!allowedHost(req)) return json(res, 403, { error: { message: `host ${req.headers.host} is not this server` } });
    if (!url.pathname.startsWith('/api/')) return serveRenderer(res, url.pathname);
    if (!allowedOrigin(req)) return json(res, 403, { error: { message: `requests from ${req.headers.origin} are not allowed` } });
    if (!hasToken(req, url)) return json(res, 401, { error: { message: 'missing or wrong token: open the URL pinlab serve printed' } });
    const route = url.pathname.slice('/api/'.length);
    if (req.method === 'GET' && route === 'snapshot') return json(res, 200, options.service.getSnapshot());
    if (req.method === 'GET' && route === 'status') return reply(res, await options.service.invoke('lab.status'));
    if (req.method === 'POST' && route.startsWith('commands/')) {
      const command = route.slice('commands/'.length);
      if (!(command in commandArgs)) return json(res, 404, { error: { message: `unknown command "${command}" (commands: ${Object.keys(commandArgs).join(', ')})` } });
      let args: unknown;
      try {
        const body = await readRequestBody(req, 64 * 1024);
        args = body.length ? JSON.parse(body.toString('utf8')) : undefined;
      } catch (error) {
        return json(res, 400, { error: { message: `the body must be JSON arguments: ${(error as Error).message}` } });
      }
      return reply(res, await options.service.invoke(command as Command, args));
    }
    return json(res, 404, { error: { message: `no API route ${req.method} ${url.pathname} (GET /api/snapshot, GET /api/status, POST /api/commands/<name>, WS /api/events)` } });
  }

  async function serveRenderer(res: ServerResponse, pathname: string): Promise<void> {
    const index = join(rendererDir, 'index.html');
    if (!existsSync(index)) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>Pinlab</title><h1>Pinlab</h1><p>The UI is not built yet: run <code>npm run build</code>. The API is live under <code>/api/</code>.</p>');
      return;
    }
    const file = normalize(join(rendererDir, pathname === '/' ? 'index.html' : pathname));
    if (!file.startsWith(rendererDir + sep) || !existsSync(file)) return json(res, 404, { error: { message: `no file ${pathname}` } });
    let body = await readFile(file);
    // The token reaches the page in the page itself: no other origin can read it.
    if (file === index) body = Buffer.from(body.toString('utf8').replace('</head>', `<meta name="pinlab-token" content="${token}"></head>`));
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(body);
  }

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://pinlab');
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\n\r\n`);
    };
    if (url.pathname !== '/api/events') return refuse('404 Not Found');
    if (!allowedHost(req) || !allowedOrigin(req)) return refuse('403 Forbidden');
    if (!hasToken(req, url)) return refuse('401 Unauthorized');
    sockets.handleUpgrade(req, socket, head, (ws) => follow(ws));
  });

  /** A client of the live stream: the snapshot, then every event batch (LabService.follow). */
  function follow(ws: WebSocket): void {
    const close = options.service.follow((message) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
    });
    ws.on('close', close);
    ws.on('error', close);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`port ${options.port} on ${options.host} is already in use (choose another with --port)`, { cause: error }) : error));
    server.listen(options.port, options.host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    token,
    port,
    async close() {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function reply(res: ServerResponse, answer: { result: unknown } | { error: { message: string } }): void {
  json(res, 'error' in answer ? 400 : 200, answer);
}
