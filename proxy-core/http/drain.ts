import type { OutgoingHttpHeaders, Server } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { LinkedList, type Linked } from '../linked-list.ts';
import type { ProxyRequest, ProxyResponse } from './request-response.ts';

export interface DrainOptions {
  /** Connections are still taken for this many ms after the drain starts, while endpoint lists drop the replica. */
  delayMs: number;
  /** Then what is in flight gets this many ms to finish; past it, it is cut. */
  timeoutMs: number;
  /** The listener closed: `inFlight` answers are under way, `streams` of them event streams ended after their current event. */
  onListenerClosed?: (inFlight: number, streams: number) => void;
}

export type DrainOutcome =
  /** Every answer finished and every connection closed, within the timeout. */
  | { kind: 'drained' }
  /** The timeout passed: `cut` answers were still under way and were cut with their connections. */
  | { kind: 'timed-out'; cut: number };

/** One answer under way on the server. */
class Exchange implements Linked<Exchange> {
  readonly res: ProxyResponse;
  readonly socket: Socket | null;
  /** A GET's answer, watched so that an event stream can be ended between events. */
  readonly stream: EventStreamEnder | null;
  prev: Exchange | null = null;
  next: Exchange | null = null;
  listed = false;

  constructor(res: ProxyResponse, stream: EventStreamEnder | null) {
    this.res = res;
    this.socket = res.socket;
    this.stream = stream;
  }
}

/**
 * The graceful stop of a replica's HTTP server (DESIGN.md: "SIGTERM drains"). From `run`:
 * `/readyz` says 503 and every answer from then on asks its client to close the connection;
 * after `delayMs` the listener closes, GET event streams end after their current event (their
 * clients reconnect, elsewhere), other answers finish, and each connection closes with its last
 * answer — those left idle once nothing has been under way for a while. Resolves once no
 * connection is left, or cuts what is left after `timeoutMs`.
 */
export class Drain {
  private state: 'serving' | 'draining' | 'closed' = 'serving';
  /** A list, not a Set: one entry per request (see LinkedList). */
  private readonly exchanges = new LinkedList<Exchange>();
  /** Requests admitted since `closeIdleWhenQuiet` last looked. */
  private admittedSince = 0;

  /** From the start of a drain on: what `/readyz` tells. */
  get draining(): boolean {
    return this.state !== 'serving';
  }

  /** Called by the server for every request, before it is answered. */
  admit(req: ProxyRequest, res: ProxyResponse): void {
    if (this.state !== 'serving') res.setHeader('connection', 'close');
    const exchange = new Exchange(res, req.method === 'GET' ? new EventStreamEnder(res) : null);
    if (this.state === 'closed') exchange.stream?.endAfterEvent();
    this.exchanges.add(exchange);
    this.admittedSince++;
    res.on('close', () => this.exchanges.delete(exchange)); // closes once
  }

  async run(server: Server, options: DrainOptions): Promise<DrainOutcome> {
    if (this.state !== 'serving') throw new Error('the server is draining already');
    this.state = 'draining';
    // Answers under way become the last on their connections, and new ones say so: each
    // connection a client keeps using closes gracefully with an answer.
    for (const exchange of this.exchanges) this.closeWithAnswer(exchange);
    await sleep(options.delayMs);
    this.state = 'closed';
    // Stops listening (idle connections stay open for now: see `closeIdleWhenQuiet`).
    const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
    let streams = 0;
    for (const { stream } of this.exchanges) if (stream?.endAfterEvent()) streams++;
    options.onListenerClosed?.(this.exchanges.size, streams);
    const deadline = performance.now() + options.timeoutMs;
    const quiet = this.closeIdleWhenQuiet(server, closed, deadline);
    const timer = sleep(options.timeoutMs, 'timed-out' as const, { ref: false });
    const outcome = await Promise.race([closed, timer]);
    await quiet;
    if (outcome !== 'timed-out') return { kind: 'drained' };
    const cut = this.exchanges.size;
    server.closeAllConnections();
    await closed;
    return { kind: 'timed-out', cut };
  }

  /**
   * Closes the connections left idle, once no answer has been under way for `IDLE_GRACE_MS`.
   * Closing an idle connection races with its client starting a request on it — HTTP/1.1 has
   * no way round that — so it is done last and on cold connections: a client still using one
   * meanwhile gets an answer that closes it gracefully. (Right when streams end, clients' pools
   * hand the next requests to the connections they have left: closing those then would fail them.)
   */
  private async closeIdleWhenQuiet(server: Server, closed: Promise<void>, deadline: number): Promise<void> {
    let done = false;
    void closed.then(() => (done = true));
    let quietSince = performance.now();
    while (!done && performance.now() < deadline) {
      await sleep(Math.min(IDLE_GRACE_MS / 5, Math.max(0, deadline - performance.now())));
      if (this.exchanges.size > 0 || this.admittedSince > 0) {
        this.admittedSince = 0;
        quietSince = performance.now();
      } else if (performance.now() - quietSince >= IDLE_GRACE_MS) {
        server.closeIdleConnections(); // also those that never carried a request
        quietSince = performance.now();
      }
    }
  }

  /**
   * Makes an answer under way the last on its connection: a head not yet sent says so; after a
   * head that said keep-alive, the connection is ended with the answer's last bytes, in the same
   * step — not a loop turn later, when its client may already be sending another request on it.
   */
  private closeWithAnswer(exchange: Exchange): void {
    const { res, socket } = exchange;
    if (!res.headersSent) {
      res.setHeader('connection', 'close');
      return;
    }
    if (!socket) return;
    const end = res.end as (...args: unknown[]) => ProxyResponse;
    res.end = ((...args: unknown[]) => {
      const result = end.apply(res, args);
      // All of it reached the kernel: closing now sends the FIN right behind the last bytes (ending
      // would wait for this process's next loop turn, and the client might reuse the connection meanwhile).
      if (socket.writableLength === 0) socket.destroy();
      else socket.end();
      return result;
    }) as ProxyResponse['end'];
  }
}

/**
 * Watches what a GET's answer writes, so that an event stream can be ended after its current
 * event: at once when what was written so far ends an event, else right after the blank line
 * that ends the one being written. What the pod sends after that is dropped (the proxy's relay
 * sees the client's answer close, and ends its exchange with the pod).
 */
class EventStreamEnder {
  private readonly res: ProxyResponse;
  private eventStream = false;
  /** Nothing has been written since the last event ended (or at all). */
  private atEventEnd = true;
  /** The last byte written ended a line. */
  private atLineStart = true;
  private lastWasCr = false;
  private ending = false;
  private ended = false;

  constructor(res: ProxyResponse) {
    this.res = res;
    const writeHead = res.writeHead;
    const write = res.write as (...args: unknown[]) => boolean;
    const end = res.end as (...args: unknown[]) => ProxyResponse;
    res.writeHead = ((...args: Parameters<ProxyResponse['writeHead']>) => {
      const headers = args.find((arg) => typeof arg === 'object' && arg !== null) as OutgoingHttpHeaders | string[] | undefined;
      this.eventStream = /^text\/event-stream/i.test(contentType(headers) ?? String(res.getHeader('content-type') ?? ''));
      const result = writeHead.apply(res, args);
      // After the caller is done with the head (it may flush it): a stream that starts while the server drains ends at once.
      if (this.ending) queueMicrotask(() => this.endIfBetweenEvents());
      return result;
    }) as ProxyResponse['writeHead'];
    res.write = ((...args: unknown[]) => {
      const [chunk, encoding] = args;
      const done = args.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      if (this.ended) {
        if (done) queueMicrotask(done);
        return true;
      }
      if (!this.eventStream || !(typeof chunk === 'string' || chunk instanceof Uint8Array)) return write.apply(res, args);
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : chunk;
      const cut = this.scan(bytes);
      if (cut === -1) return write.apply(res, args);
      if (cut > 0) write.call(res, bytes.subarray(0, cut));
      this.finish();
      if (done) queueMicrotask(done);
      return true;
    }) as ProxyResponse['write'];
    res.end = ((...args: unknown[]) => {
      if (this.ended) return res;
      this.ended = true;
      return end.apply(res, args);
    }) as ProxyResponse['end'];
  }

  /** Ends the answer after its current event, if it is an event stream; returns whether it is one. */
  endAfterEvent(): boolean {
    if (this.ended || (this.res.headersSent && !this.eventStream)) return false;
    this.ending = true;
    if (this.res.headersSent) this.endIfBetweenEvents();
    return true;
  }

  private endIfBetweenEvents(): void {
    if (!this.eventStream) this.ending = false; // not a stream: it ends by itself
    else if (this.atEventEnd) this.finish();
  }

  private finish(): void {
    this.ending = false;
    this.res.end(); // through every wrapper of `end`, this one's included
  }

  /**
   * Follows the event syntax (an event ends at an empty line; lines end with CRLF, LF or CR)
   * over `bytes`. While ending, returns the length up to and including the first event end
   * (-1 if there is none); otherwise -1, having read it all.
   */
  private scan(bytes: Uint8Array): number {
    let start = 0;
    if (!this.ending) {
      // Only the end matters then: after the last byte that is not a line end, the state is known.
      let last = bytes.length - 1;
      while (last >= 0 && (bytes[last] === CR || bytes[last] === LF)) last--;
      if (last >= 0) {
        this.lastWasCr = this.atLineStart = this.atEventEnd = false;
        start = last + 1;
      }
    }
    for (let i = start; i < bytes.length; i++) {
      const byte = bytes[i];
      if (byte === LF && this.lastWasCr) {
        this.lastWasCr = false; // the LF of a CRLF: that line already ended
        continue;
      }
      if (byte === CR || byte === LF) {
        this.lastWasCr = byte === CR;
        if (this.atLineStart) {
          this.atEventEnd = true;
          if (this.ending) return i + 1 + (byte === CR && bytes[i + 1] === LF ? 1 : 0);
        }
        this.atLineStart = true;
      } else {
        this.lastWasCr = false;
        this.atLineStart = false;
        this.atEventEnd = false;
      }
    }
    return -1;
  }
}

/** How long nothing must be under way before the connections left idle are closed. */
const IDLE_GRACE_MS = 500;

const CR = 0x0d;
const LF = 0x0a;

/** The `content-type` of headers given to `writeHead`: an object, or a flat [name, value, …] list. */
function contentType(headers: OutgoingHttpHeaders | string[] | undefined): string | undefined {
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) if (String(headers[i]).toLowerCase() === 'content-type') return String(headers[i + 1]);
    return undefined;
  }
  for (const name in headers) if (name.toLowerCase() === 'content-type') return String(headers[name]);
  return undefined;
}
