import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { sessionLostSignal, type SessionLostSignal } from '../jsonrpc.ts';
import { downstreamHeaders } from './headers.ts';

/** How a relayed request ended, as far as the proxy must know. */
export type RelayOutcome =
  /** The answer's head went to the client; its body streams on by itself. */
  | { kind: 'relayed'; status: number }
  /** The pod said it lost the session; nothing was sent to the client. */
  | { kind: 'lost'; signal: SessionLostSignal };

export interface RelayOptions {
  res: ServerResponse;
  /** The id every `Mcp-Session-Id` in the answer becomes; null leaves the header as the pod sent it. */
  clientSessionId: string | null;
  /** How many bytes of an answer to read before relaying it (0: stream at once). */
  inspect: ((status: number, headers: IncomingHttpHeaders) => number) | null;
  /** Called when the answer's head is written to the client. */
  onHead?: (status: number) => void;
  /**
   * Send the head at once instead of with the first body chunk: a GET's SSE stream may stay
   * quiet for long, and the client counts it open only once the head has arrived.
   */
  flushHead: boolean;
}

/**
 * An undici dispatch handler that writes the pod's answer straight into the client's
 * response: chunk by chunk, with backpressure both ways, no intermediate stream. When asked
 * to inspect, it holds a small answer back whole to tell "session lost" from a real answer.
 * The promise rejects only when the pod gave no answer at all (the caller may recover).
 */
export class RelayHandler implements Dispatcher.DispatchHandler {
  readonly done: Promise<RelayOutcome>;
  private resolve!: (outcome: RelayOutcome) => void;
  private reject!: (error: Error) => void;
  private readonly options: RelayOptions;
  private controller: Dispatcher.DispatchController | null = null;
  private state: 'waiting' | 'holding' | 'streaming' | 'ended' = 'waiting';
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private held: Buffer[] = [];
  private heldSize = 0;
  private limit = 0;

  constructor(options: RelayOptions) {
    this.options = options;
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    this.options.res.once('close', this.onClientClose);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    this.status = status;
    this.headers = headers;
    this.limit = this.options.inspect?.(status, headers) ?? 0;
    if (this.limit > 0) this.state = 'holding';
    else this.startStreaming();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.state === 'holding') {
      this.held.push(chunk);
      this.heldSize += chunk.length;
      if (this.heldSize <= this.limit) return;
      // Too large to be a "session lost" answer: relay what was held and stream the rest.
      this.startStreaming();
      chunk = Buffer.concat(this.held, this.heldSize);
      this.held = [];
    }
    if (!this.options.res.write(chunk)) {
      controller.pause();
      this.options.res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    const { res } = this.options;
    if (this.state === 'holding') {
      const body = Buffer.concat(this.held, this.heldSize);
      const signal = sessionLostSignal(this.status, body.toString('utf8'));
      if (signal) {
        this.finish();
        this.resolve({ kind: 'lost', signal });
        return;
      }
      this.startStreaming();
      res.end(body);
    } else {
      res.end();
    }
    this.finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    const state = this.state;
    this.finish();
    if (state === 'streaming') this.options.res.destroy(error); // the client's stream ends with the pod's
    else this.reject(error);
  }

  private startStreaming(): void {
    const { res, clientSessionId, onHead } = this.options;
    this.state = 'streaming';
    res.writeHead(this.status, downstreamHeaders(this.headers, clientSessionId));
    if (this.options.flushHead) res.flushHeaders();
    onHead?.(this.status);
    this.resolve({ kind: 'relayed', status: this.status });
  }

  private finish(): void {
    this.state = 'ended';
    this.options.res.off('close', this.onClientClose);
  }

  /** The client went away: stop the pod's answer (an SSE stream would otherwise run on). */
  private readonly onClientClose = (): void => {
    if (this.state !== 'ended') this.controller?.abort(new Error('the client closed the connection'));
  };
}
