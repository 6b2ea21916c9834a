import type { Socket } from 'node:net';
import { Agent, Client, type Dispatcher } from 'undici';
import { RelayHandler, type RelayOptions, type RelayOutcome } from '../http/relay.ts';
import { podAddress, type Service } from './service.ts';

/** The origin undici keys service connections by; never resolved: the service's connector dials. */
export const SERVICE_ORIGIN = 'http://service';
/** How events and records name "the service chose" instead of a pod. */
export const SERVICE_POD = 'service';

export type Headers = string[];
export type UpstreamResponse = Dispatcher.ResponseData;

export interface UpstreamOptions {
  connectTimeoutMs: number;
}

/**
 * The proxy's ways out: straight to a pinned pod, through the service (a pod chosen at
 * dial time, connections kept alive), and a fresh connection through the service for
 * `initialize`, whose socket tells which pod it reached.
 */
export class Upstream {
  readonly service: Service;
  private readonly pods: Agent;
  private readonly pooledService: Agent;
  private readonly connectTimeoutMs: number;

  constructor(service: Service, options: UpstreamOptions) {
    this.service = service;
    this.connectTimeoutMs = options.connectTimeoutMs;
    // bodyTimeout 0: SSE streams may stay quiet for as long as the client keeps them open.
    this.pods = new Agent({ connect: { timeout: options.connectTimeoutMs }, bodyTimeout: 0 });
    this.pooledService = new Agent({ connect: service.connector(options.connectTimeoutMs), bodyTimeout: 0 });
  }

  /** Sends to a pod by URL (`http://host:port/path`). */
  toPod(target: string, method: string, headers: Headers, body: Buffer | null): Promise<UpstreamResponse> {
    return this.pods.request({ ...splitTarget(target), method: method as Dispatcher.HttpMethod, headers, body });
  }

  /** Sends to a pod by URL and relays its answer into the client's response (the hot path). */
  relayToPod(target: string, method: string, headers: Headers, body: Buffer | null, relay: RelayOptions): Promise<RelayOutcome> {
    const handler = new RelayHandler(relay);
    this.pods.dispatch({ ...splitTarget(target), method: method as Dispatcher.HttpMethod, headers, body }, handler);
    return handler.done;
  }

  /** Sends through the service on a kept-alive connection and relays the answer. */
  relayViaService(method: string, headers: Headers, body: Buffer | null, relay: RelayOptions): Promise<RelayOutcome> {
    const handler = new RelayHandler(relay);
    this.pooledService.dispatch({ origin: SERVICE_ORIGIN, path: this.service.path, method: method as Dispatcher.HttpMethod, headers, body }, handler);
    return handler.done;
  }

  /**
   * Sends an initialize through the service on a new connection and reports the pod that
   * connection reached (its socket's remote address). A pod that refuses the connection —
   * gone, but still listed — is passed over for the next, as a client retrying would.
   */
  async initialize(headers: Headers, body: Buffer): Promise<{ response: UpstreamResponse; pod: string }> {
    const attempts = Math.max(1, Math.min(this.service.size, 3));
    for (let attempt = 1; ; attempt++) {
      let socket: Socket | undefined;
      const client = new Client(SERVICE_ORIGIN, {
        connect: this.service.connector(this.connectTimeoutMs, (s) => (socket = s)),
        pipelining: 1,
        bodyTimeout: 0,
      });
      try {
        const response = await client.request({ path: this.service.path, method: 'POST', headers, body });
        // Closes once the body has been read; the connection is used for this handshake only.
        void client.close();
        return { response, pod: socket ? podAddress(socket) : SERVICE_POD };
      } catch (error) {
        void client.destroy();
        if (attempt >= attempts || !isDialError(error)) throw error;
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.pods.destroy(), this.pooledService.destroy()]);
  }
}

function splitTarget(target: string): { origin: string; path: string } {
  const slash = target.indexOf('/', target.indexOf('//') + 2);
  return slash === -1 ? { origin: target, path: '/' } : { origin: target.slice(0, slash), path: target.slice(slash) };
}

/** Errors that mean the request never reached a pod, so replaying it elsewhere is safe. */
export function dialErrorCause(error: unknown): 'connect-refused' | 'connect-reset' | 'connect-timeout' | 'unreachable' | null {
  const code = (error as { code?: string } | null)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connect-refused';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return 'connect-reset';
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return 'connect-timeout';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return 'unreachable';
    default:
      return null;
  }
}

export function isDialError(error: unknown): boolean {
  return dialErrorCause(error) !== null;
}
