import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { RelayHandler } from '../../proxy-core/http/relay.ts';
import { readRequestBody } from '../../proxy-core/http/body.ts';
import { upstreamHeaders } from '../../proxy-core/http/headers.ts';
import { AFFINITY_COOKIE, chooseReplica, type AffinityPolicy } from './affinity.ts';

/** The ingress buffers a body to retry it on another replica; the replicas bound it more tightly. */
const MAX_BODY = 16 * 1024 * 1024;

export interface IngressTarget {
  id: string;
  /** `http://127.0.0.1:<port>` of the replica. */
  origin: string;
}

/**
 * The lab's front door: one fixed port, spreading requests over the live replicas by the
 * affinity policy. Like a Kubernetes Service in front of the proxy Deployment, it knows only
 * ready replicas; a connection a replica refuses is tried on the next one (nothing was sent).
 */
export class Ingress {
  policy: AffinityPolicy;
  private readonly server: Server;
  private readonly agent = new Agent({ bodyTimeout: 0, connect: { timeout: 2000 } });
  private readonly targets: () => IngressTarget[];
  private rr = 0;
  private port = 0;
  /** Requests (not GET streams) under way per replica: what a drain waits for. */
  private readonly inflight = new Map<string, number>();

  constructor(options: { policy: AffinityPolicy; targets: () => IngressTarget[] }) {
    this.policy = options.policy;
    this.targets = options.targets;
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
      this.server.listen(port, host, () => {
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
    await this.agent.destroy();
  }

  /**
   * Resolves once the replica has no request under way (or after `timeoutMs`): called after
   * the replica left the target list, so nothing new reaches it. GET streams are not waited
   * for: clients reconnect them.
   */
  async drain(replicaId: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((this.inflight.get(replicaId) ?? 0) > 0 && Date.now() < deadline) await sleep(10);
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
      });
      this.agent.dispatch({
        origin: target.origin, path: req.url ?? '/mcp', method: (req.method ?? 'GET') as 'GET',
        headers: upstreamHeaders(req.rawHeaders, sessionId), body,
      }, handler);
      try {
        await handler.done;
        return;
      } catch (error) {
        // Refused: the replica went away between the list and the dial; try another.
        if ((error as { code?: string }).code === 'ECONNREFUSED') continue;
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: `replica ${target.id} failed: ${(error as Error).message}` } }));
        }
        return;
      }
    }
  }
}
