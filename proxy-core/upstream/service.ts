import type { Socket } from 'node:net';
import { buildConnector } from 'undici';

/** One backend address behind the service. */
export interface Endpoint {
  hostname: string;
  port: string;
}

/**
 * The service: a virtual address in front of the pods. Like kube-proxy behind a ClusterIP,
 * it picks a pod when a connection is dialled, not per request — requests on a kept-alive
 * connection all land on the pod that connection reached.
 */
export class Service {
  /** The path every pod serves MCP on (all endpoints share it). */
  readonly path: string;
  private endpoints: Endpoint[];
  private next = 0;

  constructor(urls: readonly string[]) {
    const { endpoints, path } = parseEndpoints(urls);
    this.endpoints = endpoints;
    this.path = path;
  }

  /** Replaces the endpoint list, as pods come and go. Their path must stay the same. */
  setEndpoints(urls: readonly string[]): void {
    const { endpoints, path } = parseEndpoints(urls, this.path);
    if (path !== this.path) throw new Error(`every backend must serve the path ${this.path}, not ${path}`);
    this.endpoints = endpoints;
  }

  get size(): number {
    return this.endpoints.length;
  }

  /** Round-robin over the live endpoints, as IPVS's `rr` does. */
  pick(): Endpoint | undefined {
    if (this.endpoints.length === 0) return undefined;
    const endpoint = this.endpoints[this.next % this.endpoints.length];
    this.next = (this.next + 1) % this.endpoints.length;
    return endpoint;
  }

  /**
   * An undici `connect` function that dials the endpoint chosen now. `onSocket` sees the
   * connected socket: its remote address is the pod the connection really reached.
   */
  connector(timeoutMs: number, onSocket?: (socket: Socket) => void): buildConnector.connector {
    const dial = buildConnector({ timeout: timeoutMs });
    return (options, callback) => {
      const endpoint = this.pick();
      if (!endpoint) {
        callback(Object.assign(new Error('the service has no endpoints'), { code: 'ECONNREFUSED' }), null);
        return;
      }
      dial({ ...options, hostname: endpoint.hostname, host: `${endpoint.hostname}:${endpoint.port}`, port: endpoint.port }, (error, socket) => {
        if (error) callback(error, null);
        else {
          onSocket?.(socket as Socket);
          callback(null, socket);
        }
      });
    };
  }
}

/** `host:port` of the pod a socket is connected to, as the pod id in records and events. */
export function podAddress(socket: Socket): string {
  const host = socket.remoteFamily === 'IPv6' ? `[${socket.remoteAddress}]` : socket.remoteAddress;
  return `${host}:${socket.remotePort}`;
}

function parseEndpoints(urls: readonly string[], expectedPath?: string): { endpoints: Endpoint[]; path: string } {
  let path = expectedPath;
  const endpoints = urls.map((raw) => {
    const url = parseBackendUrl(raw);
    if (path === undefined) path = url.pathname;
    else if (url.pathname !== path) throw new Error(`every backend must serve the same path: ${raw} serves ${url.pathname}, others ${path}`);
    return { hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || '80' };
  });
  return { endpoints, path: path ?? '/mcp' };
}

/** A backend URL: plain http, with a host; errors say what is wrong with it. */
export function parseBackendUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`backend "${raw}" is not a URL (expected e.g. http://127.0.0.1:9001/mcp)`);
  }
  if (url.protocol !== 'http:') throw new Error(`backend "${raw}" must use http:// (pods speak plain HTTP)`);
  if (url.search || url.hash) throw new Error(`backend "${raw}" must not have a query or fragment`);
  return url;
}
