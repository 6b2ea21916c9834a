import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { messagesOf, sessionLostSignal, type SessionLostSignal } from '../jsonrpc.ts';
import { downstreamHeaders, type SessionIdRewrite } from './headers.ts';
import type { ProxyResponse } from './request-response.ts';

/** How a relayed request ended, as far as the proxy must know. */
export type RelayOutcome =
  /** The answer's head went to the client; its body streams on by itself. */
  | { kind: 'relayed'; status: number }
  /** The pod said it lost the session; nothing was sent to the client. */
  | { kind: 'lost'; signal: SessionLostSignal };

/** Sees an answer's body as it streams by, without holding it back. */
export interface BodyTap {
  start(status: number, headers: IncomingHttpHeaders): void;
  data(chunk: Buffer): void;
  end(): void;
}

/** The client went away before its answer was complete. */
export class ClientGoneError extends Error {
  override name = 'ClientGoneError';
  constructor() {
    super('the client closed the connection');
  }
}

/** A relay's settings and callbacks; the callbacks are called on this object (they may be its methods). */
export interface RelayOptions {
  res: ProxyResponse;
  /** What any `Mcp-Session-Id` in the answer becomes (see `SessionIdRewrite`). */
  clientSessionId: SessionIdRewrite;
  /** How many bytes of an answer to read before relaying it (0: stream at once). */
  inspect: ((status: number, headers: IncomingHttpHeaders) => number) | null;
  /** Called when the answer's head is written to the client. */
  onHead?: (status: number) => void;
  /**
   * Send the head at once instead of with the first body chunk: a GET's SSE stream may stay
   * quiet for long, and the client counts it open only once the head has arrived.
   */
  flushHead: boolean;
  /** Sees the answer's body (the proxy learns tool hints from tools/list answers so). */
  tap?: BodyTap | null;
  /**
   * The client's answer is already under way as an SSE stream (a replay after the first pod
   * stopped mid-answer): this answer is written into it as events, under no new head.
   */
  continueStream?: boolean;
  /**
   * The proxy cut the answer (a `CallCutError`) after its head went to the client: the callback
   * finishes the client's response (`sse`: it is an event stream). Without it the client's
   * response is destroyed, as when the pod dies mid-answer.
   */
  onCutAfterHead?: (error: Error, sse: boolean) => void;
  /** Called once when the exchange with the pod is over, however it ended. */
  onSettled?: () => void;
  /**
   * An answer that says its sender did not handle the request (a load balancer tries another
   * upstream): nothing reaches the client, and `done` rejects with `NotServedError`.
   */
  notServed?: (status: number, headers: IncomingHttpHeaders) => boolean;
}

/** The upstream answered that it did not handle the request (see `RelayOptions.notServed`). */
export class NotServedError extends Error {
  override name = 'NotServedError';
  readonly status: number;
  constructor(status: number) {
    super(`the upstream did not handle the request (HTTP ${status})`);
    this.status = status;
  }
}

/** A handler's headers and held chunks before it has any (shared, never written to). */
const NO_HEADERS: IncomingHttpHeaders = Object.freeze({});
const NOTHING_HELD: Buffer[] = Object.freeze([]) as unknown as Buffer[];

/** What a JSON-RPC error answer has, and others (almost always) lack. */
const ERROR_MEMBER = Buffer.from('"error"');

/** The most of a JSON answer held to be re-framed as events in a continued stream. */
const CONTINUE_LIMIT = 16 * 1024 * 1024;

/**
 * An undici dispatch handler that writes the pod's answer straight into the client's
 * response: chunk by chunk, with backpressure both ways, no intermediate stream. When asked
 * to inspect, it holds a small answer back whole to tell "session lost" from a real answer.
 * The promise rejects only when the pod gave no answer at all (the caller may recover), or
 * when `interrupt` ended the exchange before the answer's head reached the client.
 */
export class RelayHandler implements Dispatcher.DispatchHandler {
  readonly done: Promise<RelayOutcome>;
  /**
   * The request reached a connected socket and undici began writing it: a failure from now on
   * may come after the pod read it (a reset is then no proof the pod is gone).
   */
  requestStarted = false;
  private resolve!: (outcome: RelayOutcome) => void;
  private reject!: (error: Error) => void;
  private readonly options: RelayOptions;
  private controller: Dispatcher.DispatchController | null = null;
  private state: 'waiting' | 'holding' | 'streaming' | 'ended' = 'waiting';
  private status = 0;
  private headers: IncomingHttpHeaders = NO_HEADERS;
  /** What is held back (see `inspect`, `continueStream`); made when something is. */
  private held: Buffer[] = NOTHING_HELD;
  private heldSize = 0;
  private limit = 0;
  /** The answer is an event stream. */
  private sse = false;
  /** Continuing a stream with a JSON answer: held whole, then written as events. */
  private reframe = false;
  private cutReason: Error | null = null;

  constructor(options: RelayOptions) {
    this.options = options;
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // `on`, not `once` (no wrapper per request): 'close' comes once, and `finish` removes it.
    options.res.on('close', this.onClientClose);
    // Gone already (while the proxy read the store or waited on a recovery): nothing to relay.
    if (options.res.destroyed) queueMicrotask(this.onClientClose);
  }

  /**
   * Ends the exchange now. Before the answer's head reached the client, `done` rejects with
   * `error`; after it, `onCutAfterHead` finishes the client's response.
   */
  interrupt(error: Error): void {
    if (this.state === 'ended') return;
    this.cutReason = error;
    if (this.controller) this.controller.abort(error); // undici answers with onResponseError(error)
    else this.fail(error); // not on a socket yet: undici's later callbacks find the exchange ended
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    this.requestStarted = true;
    if (this.state === 'ended') controller.abort(this.cutReason ?? new ClientGoneError());
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    if (this.state === 'ended') return;
    if (this.options.notServed?.(status, headers)) {
      controller.abort(new NotServedError(status)); // undici answers with onResponseError: `done` rejects
      return;
    }
    this.status = status;
    this.headers = headers;
    this.sse = String(headers['content-type'] ?? '').startsWith('text/event-stream');
    this.options.tap?.start(status, headers);
    if (this.options.continueStream) {
      this.reframe = !this.sse;
      if (this.reframe) this.held = [];
      this.state = 'streaming';
      this.headed();
      return;
    }
    this.limit = this.options.inspect?.(status, headers) ?? 0;
    if (this.limit > 0) {
      this.state = 'holding';
      this.held = [];
    } else this.startStreaming();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.state === 'ended') return;
    this.options.tap?.data(chunk);
    if (this.state === 'holding' || this.reframe) {
      this.held.push(chunk);
      this.heldSize += chunk.length;
      if (this.reframe) {
        if (this.heldSize > CONTINUE_LIMIT) controller.abort(new Error('answer too large to continue a stream with'));
        return;
      }
      if (this.heldSize <= this.limit) return;
      // Too large to be a "session lost" answer: relay what was held and stream the rest.
      this.startStreaming();
      chunk = Buffer.concat(this.held, this.heldSize);
      this.held = NOTHING_HELD;
    }
    if (!this.options.res.write(chunk)) {
      controller.pause();
      this.options.res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    if (this.state === 'ended') return;
    const { res, tap } = this.options;
    tap?.end();
    if (this.state === 'holding') {
      const body = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held, this.heldSize);
      // A success without a JSON-RPC error in it is no "session lost": relayed unread.
      const signal = this.status < 400 && body.indexOf(ERROR_MEMBER) === -1 ? null : sessionLostSignal(this.status, body.toString('utf8'));
      if (signal) {
        this.finish();
        this.resolve({ kind: 'lost', signal });
        return;
      }
      this.startStreaming();
      res.end(body);
    } else if (this.reframe) {
      res.end(asEvents(Buffer.concat(this.held, this.heldSize)));
    } else {
      res.end();
    }
    this.finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.state !== 'streaming') {
      this.fail(error);
      return;
    }
    this.finish();
    // A cut by the proxy, or the pod gone in the middle of its answer: the exchange decides
    // how the client's response ends (replayed, answered 'outcome unknown', or cut).
    // Called on the options (they may be an object whose callbacks are methods).
    if (this.options.onCutAfterHead) this.options.onCutAfterHead(error, this.sse);
    else this.options.res.destroy(error); // the client's stream ends with the pod's
  }

  private fail(error: Error): void {
    if (this.state === 'ended') return;
    this.finish();
    this.reject(error);
  }

  private startStreaming(): void {
    const { res, clientSessionId } = this.options;
    this.state = 'streaming';
    res.writeHead(this.status, downstreamHeaders(this.headers, clientSessionId));
    if (this.options.flushHead) res.flushHeaders();
    this.headed();
  }

  private headed(): void {
    this.options.onHead?.(this.status);
    this.resolve({ kind: 'relayed', status: this.status });
  }

  private finish(): void {
    this.state = 'ended';
    this.held = NOTHING_HELD;
    this.options.res.off('close', this.onClientClose);
    this.options.onSettled?.();
  }

  /** The client went away: stop the pod's answer (an SSE stream would otherwise run on). */
  private readonly onClientClose = (): void => {
    this.interrupt(new ClientGoneError());
  };
}

/** One SSE event per JSON-RPC message of a JSON answer; nothing for a body that is not JSON-RPC. */
export function asEvents(body: Buffer | string): string {
  return (messagesOf(body) ?? []).map((message) => `event: message\ndata: ${JSON.stringify(message)}\n\n`).join('');
}
