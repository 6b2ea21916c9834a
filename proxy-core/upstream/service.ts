import type { Socket } from 'node:net';
import { buildConnector } from 'undici';

/** One backend address behind the service. */
export interface Endpoint {
  hostname: string;
  port: string;
}

/** `host:port` of an endpoint, written as the proxy names pods (IPv6 in brackets). */
export function endpointKey(endpoint: Endpoint): string {
  return `${endpoint.hostname.includes(':') ? `[${endpoint.hostname}]` : endpoint.hostname}:${endpoint.port}`;
}

/**
 * The service: a virtual address in front of the pods. Like kube-proxy behind a ClusterIP,
 * it picks a pod when a connection is dialled, not per request — requests on a kept-alive
 * connection all land on the pod that connection reached. Like kube-proxy with readiness,
 * it passes over pods that fail their health probes.
 */
export class Service {
  /** The path every pod serves MCP on (all endpoints share it). */
  readonly path: string;
  private endpoints: Endpoint[];
  /** Pods (endpoint keys) that were endpoints and are no longer, oldest first. */
  private readonly departed = new Set<string>();
  private next = 0;
  /** Whether a pod (by endpoint key) may take new connections; all may until told otherwise. */
  private healthy: (pod: string) => boolean = () => true;
  private failureListener: (pod: string, reason: string) => void = () => {};
  private refusing: (pod: string) => boolean = () => false;

  /** `path`: the pods' MCP path, for a list that may start empty (found by DNS); default: the URLs' own. */
  constructor(urls: readonly string[], path?: string) {
    const parsed = parseEndpoints(urls, path);
    this.endpoints = parsed.endpoints;
    this.path = parsed.path;
  }

  /** Replaces the endpoint list, as pods come and go. Their path must stay the same. */
  setEndpoints(urls: readonly string[]): void {
    const { endpoints, path } = parseEndpoints(urls, this.path);
    if (path !== this.path) throw new Error(`every backend must serve the path ${this.path}, not ${path}`);
    const now = new Set(endpoints.map(endpointKey));
    for (const endpoint of this.endpoints) {
      const key = endpointKey(endpoint);
      if (!now.has(key)) this.departed.add(key);
    }
    for (const key of now) this.departed.delete(key);
    for (const key of this.departed) {
      if (this.departed.size <= MAX_DEPARTED) break;
      this.departed.delete(key);
    }
    this.endpoints = endpoints;
  }

  /** Whether `pod` (`host:port`) was an endpoint and has left the list (and not come back). */
  hasLeft(pod: string): boolean {
    return this.departed.size > 0 && this.departed.has(pod);
  }

  /** The endpoints now, healthy or not. */
  list(): readonly Endpoint[] {
    return this.endpoints;
  }

  /** Tells the service which pods pass their health probes, and which of the others have nothing serving at all. */
  setHealth(healthy: (pod: string) => boolean, refusing: (pod: string) => boolean = () => false): void {
    this.healthy = healthy;
    this.refusing = refusing;
  }

  /** Hears of pods that failed a fresh connection (refused, or closed it before answering): see `reportFailure`. */
  onFailure(listener: (pod: string, reason: string) => void): void {
    this.failureListener = listener;
  }

  /**
   * A pod failed a fresh connection: nothing listens, or it closed the connection without an
   * answer (a dead container's published port does that). Passive health, as a load balancer
   * ejects an endpoint that refuses: the listener marks it at once, before its probes would.
   */
  reportFailure(pod: string, reason: string): void {
    this.failureListener(pod, reason);
  }

  get size(): number {
    return this.endpoints.length;
  }

  /** Round-robin over the healthy endpoints, as IPVS's `rr` does over ready ones. */
  pick(): Endpoint | undefined {
    return this.nextWhere(this.healthy);
  }

  /**
   * Round-robin over the endpoints that may still answer, for when none passes its probes. As
   * in Envoy's panic mode: probes also time out when the whole machine is starved, and trying
   * silent pods beats refusing every new session and every recovery. Pods with nothing serving
   * (connections refused or closed) are tried last of all.
   */
  private pickAny(): Endpoint | undefined {
    return this.nextWhere((pod) => !this.refusing(pod)) ?? this.nextWhere(() => true);
  }

  /** The next endpoint in turn that `accept`s its key; undefined when none does. */
  private nextWhere(accept: (pod: string) => boolean): Endpoint | undefined {
    const count = this.endpoints.length;
    for (let i = 0; i < count; i++) {
      const endpoint = this.endpoints[this.next % count] as Endpoint;
      this.next = (this.next + 1) % count;
      if (accept(endpointKey(endpoint))) return endpoint;
    }
    return undefined;
  }

  /**
   * An undici `connect` function that dials the endpoint chosen now. `onSocket` sees the
   * connected socket (its remote address is the pod the connection really reached), the
   * endpoint it was dialled for, and whether it was chosen in panic (no pod passed its probes).
   */
  connector(timeoutMs: number, onSocket?: (socket: Socket, endpoint: string, panic: boolean) => void): buildConnector.connector {
    const dial = buildConnector({ timeout: timeoutMs });
    return (options, callback) => {
      let endpoint = this.pick();
      const panic = endpoint === undefined;
      endpoint ??= this.pickAny();
      if (!endpoint) {
        callback(Object.assign(new Error('the service has no endpoints'), { code: 'ECONNREFUSED' }), null);
        return;
      }
      dial({ ...options, hostname: endpoint.hostname, host: `${endpoint.hostname}:${endpoint.port}`, port: endpoint.port }, (error, socket) => {
        if (error) {
          this.reportFailure(endpointKey(endpoint), (error as { code?: string }).code ?? error.message);
          callback(error, null);
        } else {
          onSocket?.(socket as Socket, endpointKey(endpoint), panic);
          callback(null, socket);
        }
      });
    };
  }
}

/** Departed pods remembered, the oldest forgotten first: a session pinned to a forgotten one is sent to its address as before (refused or timed out, then recovered). */
const MAX_DEPARTED = 10_000;

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
