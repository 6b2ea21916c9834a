import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { Agent, Client, Pool, type Dispatcher } from 'undici';
import type { RelayHandler, RelayOutcome } from '../http/relay.ts';
import { CallCutError } from '../inflight.ts';
import { keepWhileOpen } from '../while-open.ts';
import { PodClient } from './pod-client.ts';
import { podAddress, type Service } from './service.ts';

/** The origin undici keys service connections by; never resolved: the service's connector dials. */
export const SERVICE_ORIGIN = 'http://service';
/** How events and records name "the service chose" instead of a pod. */
export const SERVICE_POD = 'service';

export type Headers = string[];
export type UpstreamResponse = Dispatcher.ResponseData;

/** A request on its way to a pod. */
export interface Outgoing {
  method: string;
  /** The client's query string (`?tenant=a`, or ''): it reaches the pod unchanged. */
  query: string;
  headers: Headers;
  body: Buffer | null;
}

/** An initialize answered, read up to its JSON-RPC response (or a legacy event stream, up to its `endpoint` event). */
export interface InitializeAnswer {
  statusCode: number;
  headers: IncomingHttpHeaders;
  /** The answer up to and including its response message (all of it, unless an event stream stays open). */
  head: Buffer;
  /** The rest of an event stream the pod keeps open after its response; null when the answer ended. */
  rest: Readable | null;
  /** `host:port` of the pod the connection reached. */
  pod: string;
}

/**
 * Watches an initialize while it waits on the pod its connection reached: `cut` ends it (the
 * pod stopped answering). Returns what to call when it no longer waits.
 */
export type InitializeWatch = (pod: string, cut: (reason: Error) => void) => () => void;

export interface UpstreamOptions {
  connectTimeoutMs: number;
}

/** The most of an initialize answer held before it is relayed. */
const INITIALIZE_HOLD_LIMIT = 4 * 1024 * 1024;

/**
 * The proxy's ways out: straight to a pinned pod, through the service (a pod chosen at
 * dial time, connections kept alive), and a fresh connection through the service for
 * `initialize`, whose socket tells which pod it reached.
 */
export class Upstream {
  readonly service: Service;
  /** Pinned pods by URL, for the recovery handshake (`toPod`). */
  private readonly pods: Agent;
  /** The hot path's kept-alive connections to pinned pods (`relayToPod`): cheaper per request than the Agent. */
  private readonly pinned: PodClient;
  private readonly pooledService: Pool;
  private readonly connectTimeoutMs: number;
  /** The service connection each sessionless request went out on: its pod is where the request landed. */
  private readonly servedBy = new WeakMap<Dispatcher.DispatchHandler, ServiceClient>();
  /** The service's kept-alive connections, by the pod they reached: dropped when it stops answering. */
  private readonly serviceSockets = new Map<string, Set<Socket>>();
  /** Pinned targets split into origin and path, once per target rather than per request. */
  private readonly split = new Map<string, SplitTarget>();

  constructor(service: Service, options: UpstreamOptions) {
    this.service = service;
    this.connectTimeoutMs = options.connectTimeoutMs;
    // bodyTimeout 0: SSE streams may stay quiet for as long as the client keeps them open.
    this.pods = new Agent({ connect: { timeout: options.connectTimeoutMs }, bodyTimeout: 0 });
    this.pinned = new PodClient({ connectTimeoutMs: options.connectTimeoutMs });
    this.pooledService = new Pool(SERVICE_ORIGIN, { bodyTimeout: 0, factory: (origin, opts) => this.serviceClient(origin, opts, true) });
  }

  /**
   * The pod a request sent through the service landed on (`host:port`): the pod its
   * connection reached, known once the request went out on one; null before, or for a request
   * not sent through the service.
   */
  podServing(handler: Dispatcher.DispatchHandler): string | null {
    return this.servedBy.get(handler)?.pod ?? null;
  }

  /** Sends to a pod by URL (`http://host:port/path`); the recovery handshake's way. */
  toPod(target: string, method: string, headers: Headers, body: Buffer | null, headersTimeout?: number): Promise<UpstreamResponse> {
    const { origin, path } = this.splitTarget(target);
    return this.pods.request({ origin, path, method: method as Dispatcher.HttpMethod, headers, body, headersTimeout });
  }

  /**
   * Sends to a pod by URL and relays its answer into the client's response (the hot path).
   * `fresh`: on a new connection of its own, not a kept-alive one.
   */
  relayToPod(target: string, out: Outgoing, handler: RelayHandler, fresh = false): Promise<RelayOutcome> {
    const { origin, path } = this.splitTarget(target);
    const options = { origin, path: path + out.query, method: out.method as Dispatcher.HttpMethod, headers: out.headers, body: out.body };
    if (fresh) oneShot(new Client(origin, { connect: { timeout: this.connectTimeoutMs }, pipelining: 1, bodyTimeout: 0 }), options, handler);
    else this.pinned.dispatch(options, handler);
    return handler.done;
  }

  /** Sends through the service and relays the answer: on a kept-alive connection, or a `fresh` one. */
  relayViaService(out: Outgoing, handler: RelayHandler, fresh = false): Promise<RelayOutcome> {
    const options = {
      origin: SERVICE_ORIGIN, path: this.service.path + out.query, method: out.method as Dispatcher.HttpMethod, headers: out.headers, body: out.body,
    };
    if (fresh) oneShot(this.serviceClient(SERVICE_ORIGIN, { pipelining: 1, bodyTimeout: 0 }, false), options, handler);
    else this.pooledService.dispatch(options, handler);
    return handler.done;
  }

  /**
   * Sends an initialize through the service on a new connection and reports the pod that
   * connection reached (its socket's remote address). The answer is read up to its response
   * before it is returned, so that a pod that fails before answering — refused, reset, or cut
   * by `watch` because it stopped answering — is passed over for the next, as a client
   * retrying would: an initialize is safe to send again.
   */
  initialize(headers: Headers, body: Buffer, query: string, watch?: InitializeWatch): Promise<InitializeAnswer> {
    return this.heldViaService('POST', headers, body, query, hasResponseEvent, watch);
  }

  /**
   * Opens an event stream (a legacy HTTP+SSE `GET`) through the service on a new connection,
   * as `initialize` does: the pod reached is reported, and the stream is read until `enough`
   * says so (its `endpoint` event), passing over pods that fail before that.
   */
  openStream(headers: Headers, query: string, enough: (text: string) => boolean, watch?: InitializeWatch): Promise<InitializeAnswer> {
    return this.heldViaService('GET', headers, null, query, enough, watch);
  }

  /** A request through the service on a connection of its own, its answer held until an event stream's text is `enough` (any other answer: whole). */
  private async heldViaService(
    method: 'GET' | 'POST', headers: Headers, body: Buffer | null, query: string, enough: (text: string) => boolean, watch?: InitializeWatch,
  ): Promise<InitializeAnswer> {
    const attempts = Math.max(1, Math.min(this.service.size, 3));
    for (let attempt = 1; ; attempt++) {
      const state: { pod: string | null; cut: Error | null; unwatch: () => void } = { pod: null, cut: null, unwatch: () => {} };
      const client = new Client(SERVICE_ORIGIN, {
        connect: this.service.connector(this.connectTimeoutMs, (socket, _endpoint, panic) => {
          const pod = podAddress(socket);
          state.pod = pod;
          const cut = (reason: Error) => {
            state.cut = reason;
            void client.destroy(reason);
          };
          const unwatch = watch ? watch(pod, cut) : () => {};
          // A pod tried in panic (none passes its probes) may be the hung one: it gets as long as a dial to answer.
          const late = panic
            ? setTimeout(() => cut(new CallCutError('pod-unhealthy', pod, `pod ${pod} fails its health probes (as every pod does now) and did not answer within ${this.connectTimeoutMs} ms`)), this.connectTimeoutMs)
            : undefined;
          state.unwatch = () => {
            clearTimeout(late);
            unwatch();
          };
        }),
        pipelining: 1,
        bodyTimeout: 0,
      });
      try {
        const response = await client.request({ path: this.service.path + query, method, headers, body });
        const sse = String(response.headers['content-type'] ?? '').startsWith('text/event-stream');
        const { held, ended } = await readUntil(response.body, sse ? enough : () => false, INITIALIZE_HOLD_LIMIT);
        state.unwatch();
        // Closes once the body has been read; the connection is used for this exchange only.
        void client.close();
        return { statusCode: response.statusCode, headers: response.headers, head: held, rest: ended ? null : response.body, pod: state.pod ?? SERVICE_POD };
      } catch (error) {
        state.unwatch();
        void client.destroy();
        const cause = transportCause(error);
        // Connected, then closed without an answer: that pod is not serving (dial failures are the connector's to report).
        if (state.pod !== null && state.cut === null && cause !== null) this.service.reportFailure(state.pod, cause);
        if (attempt >= attempts || (state.cut === null && cause === null)) throw state.cut ?? withPod(error, state.pod);
      }
    }
  }

  /** Cuts the service's kept-alive connections to a pod that stopped answering: what waits on them fails with `reason`. */
  dropServiceConnections(pod: string, reason: Error): void {
    for (const socket of this.serviceSockets.get(pod) ?? []) socket.destroy(reason);
  }

  async close(): Promise<void> {
    await Promise.all([this.pods.destroy(), this.pinned.destroy(), this.pooledService.destroy()]);
  }

  private splitTarget(target: string): SplitTarget {
    let split = this.split.get(target);
    if (!split) {
      if (this.split.size >= MAX_SPLIT_TARGETS) this.split.clear(); // pods come and go
      this.split.set(target, (split = splitTarget(target)));
    }
    return split;
  }

  /** A connection through the service that notes the pod it reached; `tracked`: kept alive, so cut when its pod stops answering. */
  private serviceClient(origin: string | URL, options: Client.Options, tracked: boolean): ServiceClient {
    const client: ServiceClient = new ServiceClient(origin, {
      ...options,
      connect: this.service.connector(this.connectTimeoutMs, (socket) => {
        client.pod = podAddress(socket);
        if (tracked) keepWhileOpen(this.serviceSockets, client.pod, socket);
      }),
    }, this.servedBy);
    return client;
  }

}

/**
 * A connection through the service. It knows the pod its socket reached (a reconnect may reach
 * another), and notes itself as the one each request went out on: undici tells a dispatch
 * handler nothing of the socket that carried its request.
 */
class ServiceClient extends Client {
  /** `host:port` of the pod the connection reached last; SERVICE_POD before it connected. */
  pod = SERVICE_POD;
  private readonly servedBy: WeakMap<Dispatcher.DispatchHandler, ServiceClient>;

  constructor(origin: string | URL, options: Client.Options, servedBy: WeakMap<Dispatcher.DispatchHandler, ServiceClient>) {
    super(origin, options);
    this.servedBy = servedBy;
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    this.servedBy.set(handler, this);
    return super.dispatch(options, handler);
  }
}

/** Dispatches one request on `client`, a connection of its own, closed once the request is over. */
function oneShot(client: Client, options: Dispatcher.DispatchOptions, handler: RelayHandler): void {
  client.dispatch(options, handler);
  void client.close(); // waits for the request dispatched, then closes
}

interface SplitTarget {
  readonly origin: string;
  readonly path: string;
}

/** How many split targets are kept (one per pod address a session has been pinned to). */
const MAX_SPLIT_TARGETS = 1024;

function splitTarget(target: string): SplitTarget {
  const slash = target.indexOf('/', target.indexOf('//') + 2);
  return slash === -1 ? { origin: target, path: '/' } : { origin: target.slice(0, slash), path: target.slice(slash) };
}

/** Reads a stream until `enough` says so (the stream is then paused), it ends, or `limit` bytes are held. */
function readUntil(stream: Readable, enough: (text: string) => boolean, limit: number): Promise<{ held: Buffer; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (ended: boolean) => {
      stream.off('data', onData).off('end', onEnd).off('error', reject);
      if (!ended) stream.pause();
      resolve({ held: Buffer.concat(chunks, size), ended });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit || enough(Buffer.concat(chunks, size).toString('utf8'))) settle(false);
    };
    const onEnd = () => settle(true);
    stream.on('data', onData).once('end', onEnd).once('error', reject);
  });
}

/** Whether an event stream's text holds a complete event carrying a JSON-RPC response. */
function hasResponseEvent(text: string): boolean {
  const events = text.split(/\r?\n\r?\n/);
  events.pop(); // not yet complete
  return events.some((event) => /"(result|error)"\s*:/.test(event));
}

export type TransportCause = 'connect-refused' | 'connect-reset' | 'connect-timeout' | 'unreachable';

/**
 * The transport failure behind an error — a connection refused, reset, timed out or
 * unreachable — or null for anything else. Whether the pod may have read the request is a
 * separate question (`RelayHandler.requestStarted`).
 */
export function transportCause(error: unknown): TransportCause | null {
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
    case 'EAI_AGAIN':
      return 'unreachable';
    default:
      return null;
  }
}

/** A transport error that names the pod it came from (its code kept, so that `transportCause` still reads it). */
function withPod(error: unknown, pod: string | null): unknown {
  if (pod === null || !(error instanceof Error)) return error;
  return Object.assign(new Error(`pod ${pod}: ${error.message}`, { cause: error }), { code: (error as { code?: string }).code });
}
