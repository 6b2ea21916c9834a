// A lean HTTP/1.1 keep-alive client for the relay's way to pinned pods. undici's Agent costs
// 4–8 µs of CPU per request over bare sockets (bench/floor); this speaks just the HTTP/1.1 a
// relay needs — one request at a time per connection, head and body in one write, the answer
// framed by Content-Length, chunked or the close — and talks to undici's dispatch handlers
// (RelayHandler) as undici does. Its errors are undici's, so `transportCause` reads them alike.
import type { IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { errors, type Dispatcher } from 'undici';

/** A request for a pod: undici's dispatch options as the relay gives them. */
export interface PodRequest {
  /** `http://host:port`. */
  origin: string;
  path: string;
  method: string;
  /** Flat [name, value, …]; never host, content-length, connection or transfer-encoding (`upstreamHeaders` drops them). */
  headers: readonly string[];
  body: Buffer | null;
}

export interface PodClientOptions {
  /** As undici's `connect.timeout`: a dial that takes longer fails with `UND_ERR_CONNECT_TIMEOUT`. */
  connectTimeoutMs: number;
  /** How long a written request waits for its answer's head (`UND_ERR_HEADERS_TIMEOUT`); undici's default, 300 s. */
  headersTimeoutMs?: number;
}

/**
 * A head larger than this is refused (`UND_ERR_HEADERS_OVERFLOW`). undici refuses at Node's
 * 16 KiB of header bytes; a relay is better off passing a pod's large head on than failing it.
 */
export const MAX_HEAD = 64 * 1024;
/** How often timeouts are looked at: one coarse sweep, no timer per request. */
const SWEEP_MS = 1000;
/** undici's: an idle connection is kept this long without a `Keep-Alive: timeout` hint… */
const KEEP_ALIVE_DEFAULT_MS = 4000;
/** …or the hint less this margin (the pod closes at the hint: the request must not race it)… */
const KEEP_ALIVE_MARGIN_MS = 2000;
/** …but never longer than this. */
const KEEP_ALIVE_MAX_MS = 600_000;
const HEADERS_TIMEOUT_MS = 300_000;
/** A body up to this size is copied behind the head for one write; a larger one goes in a corked second write. */
const COPY_BODY_LIMIT = 64 * 1024;

/** Methods undici sends `content-length: 0` for when they have no body. */
const EXPECTS_PAYLOAD = new Set(['PUT', 'POST', 'PATCH', 'QUERY', 'PROPFIND', 'PROPPATCH']);
const HEAD_END = Buffer.from('\r\n\r\n');
const NO_TRAILERS: IncomingHttpHeaders = Object.freeze({});
const REQUEST_CONTEXT = Object.freeze({});

// undici's error classes, with the constructors their runtime has (the typings give only `message`).
const SocketError = errors.SocketError as unknown as new (message: string, socket: SocketInfo | null) => Error;
const HTTPParserError = errors.HTTPParserError as unknown as new (message: string, code: string) => Error;

interface SocketInfo {
  localAddress?: string;
  localPort?: number;
  remoteAddress?: string;
  remotePort?: number;
  remoteFamily?: string;
  bytesWritten: number;
  bytesRead: number;
}

/** A pod's answer that is not HTTP/1.1, as undici words it. */
function badAnswer(code: string, reason: string): Error {
  return new HTTPParserError(`Response does not match the HTTP/1.1 protocol (${reason})`, code);
}

/** Keep-alive connections to pods, one request at a time on each, as many as requests need. */
export class PodClient {
  /** Milliseconds a written request waits for its answer's head. */
  readonly headersTimeoutMs: number;
  readonly connectTimeoutMs: number;
  private readonly origins = new Map<string, Origin>();
  /** Every open connection: the sweep's round. */
  private readonly connections = new Set<Connection>();
  /** Reused connections waiting one turn of the event loop before they are written to (see `reuse`). */
  private validating: Connection[] = [];
  private validation: NodeJS.Immediate | null = null;
  private readonly sweeper: NodeJS.Timeout;
  private destroyed = false;

  constructor(options: PodClientOptions) {
    this.connectTimeoutMs = options.connectTimeoutMs;
    this.headersTimeoutMs = options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
    this.sweeper = setInterval(this.sweep, SWEEP_MS).unref();
  }

  /** Sends a request; the answer goes to `handler` as undici would give it. Returns false, as undici does, when it failed at once. */
  dispatch(request: PodRequest, handler: Dispatcher.DispatchHandler): boolean {
    const exchange = new Exchange(handler, request.method);
    if (this.destroyed) {
      exchange.fail(new errors.ClientDestroyedError());
      return false;
    }
    let origin = this.origins.get(request.origin);
    if (!origin) {
      const parsed = parseOrigin(request.origin);
      if (parsed instanceof Error) {
        exchange.fail(parsed);
        return false;
      }
      origin = new Origin(request.origin, parsed);
      this.origins.set(request.origin, origin);
    }
    exchange.head = requestHead(request, origin.host);
    exchange.body = request.body;
    this.send(origin, exchange);
    return true;
  }

  /** Destroys every connection; exchanges under way fail with `UND_ERR_DESTROYED`. */
  async destroy(): Promise<void> {
    this.destroyed = true;
    clearInterval(this.sweeper);
    if (this.validation) clearImmediate(this.validation);
    this.validation = null;
    this.validating = [];
    const closed: Promise<void>[] = [];
    for (const connection of this.connections) {
      closed.push(new Promise((resolve) => connection.socket.once('close', () => resolve())));
      connection.destroy(new errors.ClientDestroyedError());
    }
    await Promise.all(closed);
  }

  /** As `destroy`: the relay never waits for answers under way when the proxy closes. */
  close(): Promise<void> {
    return this.destroy();
  }

  /** Puts `exchange` on an idle connection to `origin`, or a new one. */
  send(origin: Origin, exchange: Exchange): void {
    if (this.destroyed) return exchange.fail(new errors.ClientDestroyedError());
    const idle = origin.takeIdle();
    if (idle) this.reuse(idle, exchange);
    else this.connections.add(new Connection(this, origin, exchange));
  }

  /**
   * Writes on a kept-alive connection after one turn of the event loop (undici does the same):
   * a close or stray bytes from the pod already on their way are read first, so a connection
   * the pod just closed takes no request. One Immediate serves every connection of a turn.
   */
  private reuse(connection: Connection, exchange: Exchange): void {
    connection.assign(exchange);
    this.validating.push(connection);
    this.validation ??= setImmediate(this.validate);
  }

  private readonly validate = (): void => {
    const connections = this.validating;
    this.validating = [];
    this.validation = null;
    for (const connection of connections) connection.writeIfOpen();
  };

  forget(connection: Connection): void {
    this.connections.delete(connection);
    const origin = connection.origin;
    if (--origin.open === 0 && this.origins.get(origin.key) === origin) this.origins.delete(origin.key);
  }

  private readonly sweep = (): void => {
    const now = performance.now();
    for (const connection of this.connections) connection.sweep(now);
  };
}

/** Where a pod is dialled, and its idle connections (the most recently used on top). */
class Origin {
  readonly key: string;
  /** The Host header's value (`host:port`; undici's, from the origin's URL). */
  readonly host: string;
  readonly hostname: string;
  readonly port: number;
  readonly idle: Connection[] = [];
  /** Open connections (idle or not); the origin is forgotten when none is left. */
  open = 0;

  constructor(key: string, address: { host: string; hostname: string; port: number }) {
    this.key = key;
    this.host = address.host;
    this.hostname = address.hostname;
    this.port = address.port;
  }

  /** The most recently used idle connection still fit to carry a request; those too long idle are closed. */
  takeIdle(): Connection | null {
    const now = performance.now();
    for (let connection = this.idle.pop(); connection; connection = this.idle.pop()) {
      if (connection.fresh(now)) return connection;
      connection.destroy(null);
    }
    return null;
  }

  dropIdle(connection: Connection): void {
    const at = this.idle.lastIndexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
  }
}

// Where a connection is (numbers, not an enum: Node strips types, it does not compile enums).
const Phase = { Connecting: 0, Validating: 1, Head: 2, Body: 3, Idle: 4, Closed: 5 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

// Where a body's framing is.
const Framing = { None: 0, Length: 1, UntilClose: 2, ChunkSize: 3, ChunkExtension: 4, ChunkSizeLf: 5, ChunkData: 6, ChunkDataCr: 7, ChunkDataLf: 8, TrailerStart: 9, TrailerLine: 10, TrailerEndLf: 11 } as const;
type Framing = (typeof Framing)[keyof typeof Framing];
const CR = 13;
const LF = 10;

/** One socket to a pod, carrying one exchange at a time. Its socket handlers are bound once, not per request. */
class Connection {
  readonly socket: Socket;
  readonly origin: Origin;
  private readonly client: PodClient;
  private phase: Phase = Phase.Connecting;
  private exchange: Exchange | null;
  /** Taken from the idle ones: an exchange it closes on before writing goes on another connection. */
  private reused = false;
  private connectTimer: NodeJS.Timeout | null;
  /** What broke the socket, for the exchange on it (undici's `kError`). */
  private error: Error | null = null;
  /** The last answer allows another request on this connection. */
  private keepAlive = false;
  private keepAliveMs = KEEP_ALIVE_DEFAULT_MS;
  private idleSince = 0;
  /** A head's bytes while it arrives in pieces: a buffer of its own, grown by doubling. */
  private partial: Buffer | null = null;
  private partialLength = 0;
  private framing: Framing = Framing.None;
  /** Bytes left of the body (Length) or of the current chunk (ChunkData); a chunk size while it is read. */
  private remaining = 0;
  private sizeDigits = 0;
  private trailerBytes = 0;
  /** What was left unread when the handler paused: read on when it resumes. */
  private stashed: Buffer | null = null;
  private stashedAt = 0;

  constructor(client: PodClient, origin: Origin, exchange: Exchange) {
    this.client = client;
    this.origin = origin;
    this.exchange = exchange;
    origin.open++;
    // As undici dials: no Nagle delay, TCP keep-alive probes after a minute of silence.
    this.socket = connect({ host: origin.hostname, port: origin.port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 });
    this.connectTimer = client.connectTimeoutMs > 0 ? setTimeout(this.onConnectTimeout, client.connectTimeoutMs) : null;
    this.socket.once('connect', this.onConnect);
    this.socket.on('data', this.onData);
    this.socket.on('end', this.onEnd);
    this.socket.on('error', this.onError);
    this.socket.on('close', this.onClose);
  }

  /** Idle for less time than the pod is expected to keep it (and not closed meanwhile). */
  fresh(now: number): boolean {
    return this.phase === Phase.Idle && !this.socket.destroyed && now - this.idleSince < this.keepAliveMs;
  }

  assign(exchange: Exchange): void {
    this.exchange = exchange;
    this.phase = Phase.Validating;
    this.reused = true;
    this.socket.ref();
  }

  writeIfOpen(): void {
    // Closed meanwhile: `onClose` has passed the exchange on to another connection.
    if (this.phase === Phase.Validating && !this.socket.destroyed) this.write();
  }

  /** Closes the connection; an exchange on it fails with `error` (none: it ended already, or there is none). */
  destroy(error: Error | null): void {
    if (error) this.fail(error);
    if (this.phase === Phase.Idle) this.origin.dropIdle(this);
    this.phase = Phase.Closed;
    this.socket.destroy();
  }

  sweep(now: number): void {
    const exchange = this.exchange;
    if (this.phase === Phase.Idle) {
      if (now - this.idleSince >= this.keepAliveMs) this.destroy(null);
    } else if (this.phase === Phase.Head && exchange && now - exchange.sentAt >= this.client.headersTimeoutMs) {
      this.destroy(new errors.HeadersTimeoutError());
    }
  }

  /** The handler paused, then resumed: read on from where it stopped. */
  resume(exchange: Exchange): void {
    if (exchange !== this.exchange || this.stashed === null) return;
    const stashed = this.stashed;
    this.stashed = null;
    this.read(stashed, this.stashedAt);
    // Read on, unless the handler paused again: the answer may have ended, leaving an idle connection that must hear the pod.
    if (this.stashed === null && this.phase !== Phase.Closed) this.socket.resume();
  }

  /** The handler aborted: the connection goes, never reused. */
  abort(exchange: Exchange, reason: Error): void {
    if (exchange === this.exchange) this.destroy(reason);
  }

  private readonly onConnect = (): void => {
    this.clearConnectTimer();
    if (this.phase === Phase.Connecting) this.write();
  };

  private readonly onConnectTimeout = (): void => {
    this.connectTimer = null;
    const { hostname, port } = this.origin;
    this.error = new errors.ConnectTimeoutError(`Connect Timeout Error (attempted address: ${hostname}:${port}, timeout: ${this.client.connectTimeoutMs}ms)`);
    this.socket.destroy(this.error);
  };

  private clearConnectTimer(): void {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
  }

  /** Writes the exchange's request, head and body in one write, once the handler has been told. */
  private write(): void {
    const exchange = this.exchange!;
    if (exchange.ended) return this.destroy(null); // failed before it had a socket: nothing to send
    this.phase = Phase.Head;
    exchange.connection = this;
    try {
      exchange.handler.onRequestStart?.(exchange, REQUEST_CONTEXT);
    } catch (error) {
      this.destroy(error as Error);
      return;
    }
    if (exchange.ended) return; // aborted by the handler: `abort` closed the connection
    exchange.sentAt = performance.now();
    const { head, body } = exchange;
    if (!body || body.length === 0) this.socket.write(head, 'latin1');
    else if (body.length <= COPY_BODY_LIMIT) {
      const bytes = Buffer.allocUnsafe(head.length + body.length);
      bytes.write(head, 0, 'latin1');
      bytes.set(body, head.length);
      this.socket.write(bytes);
    } else {
      this.socket.cork();
      this.socket.write(head, 'latin1');
      this.socket.write(body);
      this.socket.uncork();
    }
    // As undici: no reuse after a HEAD (a pod may send the body anyway), or a body on a method that expects none.
    if (exchange.method === 'HEAD' || (body && body.length > 0 && !EXPECTS_PAYLOAD.has(exchange.method))) exchange.noReuse = true;
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.phase !== Phase.Head && this.phase !== Phase.Body) {
      this.destroy(null); // bytes nobody asked for: the connection cannot be trusted
      return;
    }
    if (this.stashed !== null) {
      // Not expected (the socket is paused while something is stashed), but no byte may be lost.
      this.stashed = Buffer.concat([this.stashed.subarray(this.stashedAt), chunk]);
      this.stashedAt = 0;
      return;
    }
    this.read(chunk, 0);
  };

  /** Reads an answer's bytes from `at`: heads, then the body, handed to the exchange as they come. */
  private read(buf: Buffer, at: number): void {
    const exchange = this.exchange!;
    while (this.phase === Phase.Head) {
      if (at === buf.length && this.partialLength === 0) return;
      let bytes = buf;
      let start = at;
      let searchFrom = at;
      if (this.partialLength > 0) {
        searchFrom = Math.max(0, this.partialLength - 3);
        bytes = this.holdPartial(buf, at);
        start = 0;
      }
      const end = bytes.indexOf(HEAD_END, searchFrom);
      if (end < 0 || end + 4 - start > MAX_HEAD) {
        if (end >= 0 || bytes.length - start > MAX_HEAD) return this.destroy(new errors.HeadersOverflowError());
        // Lines that end in a bare LF would never make the CRLF CRLF waited for.
        if (hasBareLf(bytes, start, searchFrom)) return this.destroy(badAnswer('CR_EXPECTED', 'Missing expected CR before LF'));
        if (this.partialLength === 0) this.holdPartial(buf, at);
        return;
      }
      this.partial = null;
      this.partialLength = 0;
      let head: AnswerHead;
      try {
        head = parseAnswerHead(bytes, start, end);
      } catch (error) {
        return this.destroy(error as Error);
      }
      buf = bytes;
      at = end + 4;
      if (head.status < 200) {
        // 100 Continue, 103 Early Hints…: the answer is yet to come. A 101 was never asked for.
        if (head.status === 101) return this.destroy(new SocketError('bad upgrade', socketInfo(this.socket)));
        continue;
      }
      this.startBody(head, exchange.method);
      if (!exchange.started(head.status, head.headers, head.statusMessage)) return this.lost(exchange);
      if (exchange.paused) return this.pause(buf, at);
    }
    const end = this.frame(exchange, buf, at);
    if (end >= 0) this.complete(exchange, buf, end);
  }

  /** Copies a head's piece into the connection's own buffer; returns the bytes held so far. */
  private holdPartial(buf: Buffer, at: number): Buffer {
    const add = buf.length - at;
    const need = this.partialLength + add;
    if (!this.partial || this.partial.length < need) {
      const grown = Buffer.allocUnsafe(Math.max(need, 2 * (this.partial?.length ?? 512)));
      if (this.partial) this.partial.copy(grown, 0, 0, this.partialLength);
      this.partial = grown;
    }
    buf.copy(this.partial, this.partialLength, at);
    this.partialLength = need;
    return this.partial.subarray(0, need);
  }

  /** Where the answer's body ends (RFC 9112 §6.3), and whether the connection may carry another request. */
  private startBody(head: AnswerHead, method: string): void {
    this.phase = Phase.Body;
    this.remaining = 0;
    this.sizeDigits = 0;
    this.trailerBytes = 0;
    this.keepAlive = head.keepAlive && !this.exchange!.noReuse;
    this.keepAliveMs = head.keepAliveMs;
    if (method === 'HEAD' || head.status === 204 || head.status === 304) {
      // A 204/304 that announces a body may send one: the connection is not trusted with another request.
      if (method !== 'HEAD' && (head.contentLength > 0 || head.transferEncoding)) this.keepAlive = false;
      this.framing = Framing.None;
    } else if (head.chunked) this.framing = Framing.ChunkSize;
    else if (head.transferEncoding || head.contentLength < 0) {
      this.framing = Framing.UntilClose;
      this.keepAlive = false;
    } else if (head.contentLength > 0) {
      this.framing = Framing.Length;
      this.remaining = head.contentLength;
    } else this.framing = Framing.None;
  }

  /**
   * Hands the body's payload in `buf` from `at` to the exchange, framing taken off. Returns the
   * index just past the body's end, or -1: the body goes on past `buf`, the handler paused (the
   * rest is stashed), or the exchange ended.
   */
  private frame(exchange: Exchange, buf: Buffer, at: number): number {
    let i = at;
    while (this.framing !== Framing.None) {
      if (i >= buf.length) return -1;
      switch (this.framing) {
        case Framing.UntilClose:
        case Framing.Length:
        case Framing.ChunkData: {
          const untilClose = this.framing === Framing.UntilClose;
          const take = untilClose ? buf.length - i : Math.min(this.remaining, buf.length - i);
          const payload = i === 0 && take === buf.length ? buf : buf.subarray(i, i + take);
          i += take;
          if (!untilClose) {
            this.remaining -= take;
            if (this.remaining === 0) this.framing = this.framing === Framing.Length ? Framing.None : Framing.ChunkDataCr;
          }
          if (!exchange.data(payload)) {
            this.lost(exchange);
            return -1;
          }
          if (exchange.paused) {
            this.pause(buf, i);
            return -1;
          }
          break;
        }
        case Framing.ChunkSize: {
          const byte = buf[i++]!;
          const digit = hexDigit(byte);
          if (digit >= 0) {
            this.remaining = this.remaining * 16 + digit;
            if (++this.sizeDigits > 13) return this.bad('INVALID_CHUNK_SIZE', 'Chunk size too large');
          } else if (this.sizeDigits === 0) return this.bad('INVALID_CHUNK_SIZE', 'Invalid character in chunk size');
          else if (byte === CR) this.framing = Framing.ChunkSizeLf;
          else if (byte === 0x3b) this.framing = Framing.ChunkExtension; // ';'
          else return this.bad('INVALID_CHUNK_SIZE', 'Invalid character in chunk size');
          break;
        }
        case Framing.ChunkExtension:
          if (buf[i++] === CR) this.framing = Framing.ChunkSizeLf;
          break;
        case Framing.ChunkSizeLf:
          if (buf[i++] !== LF) return this.bad('STRICT', 'Expected LF after chunk size');
          this.framing = this.remaining === 0 ? Framing.TrailerStart : Framing.ChunkData;
          break;
        case Framing.ChunkDataCr:
          if (buf[i++] !== CR) return this.bad('STRICT', 'Expected CRLF after chunk data');
          this.framing = Framing.ChunkDataLf;
          break;
        case Framing.ChunkDataLf:
          if (buf[i++] !== LF) return this.bad('STRICT', 'Expected CRLF after chunk data');
          this.framing = Framing.ChunkSize;
          this.sizeDigits = 0;
          break;
        case Framing.TrailerStart:
          this.framing = buf[i++] === CR ? Framing.TrailerEndLf : Framing.TrailerLine;
          break;
        case Framing.TrailerLine: // trailers are skipped, as far as a head may go
          if (buf[i++] === LF) this.framing = Framing.TrailerStart;
          else if (++this.trailerBytes > MAX_HEAD) return this.fault(new errors.HeadersOverflowError());
          break;
        case Framing.TrailerEndLf:
          if (buf[i++] !== LF) return this.bad('STRICT', 'Expected LF after trailers');
          this.framing = Framing.None;
          break;
      }
    }
    return i;
  }

  private bad(code: string, reason: string): -1 {
    return this.fault(badAnswer(code, reason));
  }

  private fault(error: Error): -1 {
    this.destroy(error);
    return -1;
  }

  /** The answer is complete: the connection goes idle (or closes), then the handler hears of the end. */
  private complete(exchange: Exchange, buf: Buffer, end: number): void {
    this.exchange = null;
    // Bytes past the answer, with no request out: the pod is not speaking HTTP as this client reads it.
    if (!this.keepAlive || end < buf.length || this.keepAliveMs <= 0) this.destroy(null);
    else {
      this.phase = Phase.Idle;
      this.idleSince = performance.now();
      this.socket.unref();
      this.origin.idle.push(this);
    }
    exchange.finish();
  }

  /** The handler threw, or aborted: the connection cannot be trusted with what is left of the answer. */
  private lost(exchange: Exchange): void {
    if (this.exchange === exchange) this.destroy(exchange.reason);
  }

  private pause(buf: Buffer, at: number): void {
    this.stashed = buf;
    this.stashedAt = at;
    this.socket.pause();
  }

  /** Fails the exchange on this connection, if any and not ended. */
  private fail(error: Error): void {
    const exchange = this.exchange;
    this.exchange = null;
    this.stashed = null;
    if (exchange) exchange.fail(error);
  }

  private readonly onEnd = (): void => {
    // An answer framed by the close has ended; any other exchange is cut (as undici words it).
    if (this.phase === Phase.Body && this.framing === Framing.UntilClose && this.stashed === null) {
      this.keepAlive = false;
      this.complete(this.exchange!, EMPTY, 0);
    } else {
      this.error ??= new SocketError('other side closed', socketInfo(this.socket));
      this.socket.destroy();
    }
  };

  private readonly onError = (error: Error): void => {
    this.error ??= error;
  };

  private readonly onClose = (): void => {
    this.clearConnectTimer();
    if (this.phase === Phase.Idle) this.origin.dropIdle(this);
    const exchange = this.exchange;
    const phase = this.phase;
    this.phase = Phase.Closed;
    if (exchange && !exchange.ended) {
      if (this.reused && exchange.connection === null) {
        // A kept-alive connection closed before the request was written on it: another carries it.
        this.exchange = null;
        this.client.send(this.origin, exchange);
      } else if (phase === Phase.Body && this.framing === Framing.UntilClose && this.stashed === null && (this.error as { code?: string } | null)?.code === 'ECONNRESET') {
        this.complete(exchange, EMPTY, 0); // a reset after an answer framed by the close ends it (undici reads it so too)
      } else this.fail(this.error ?? new SocketError('closed', socketInfo(this.socket)));
    }
    this.client.forget(this); // last: a request sent on from here keeps the origin known
  };
}

const EMPTY = Buffer.alloc(0);

/** One request and its answer; the handler's controller (undici's RequestController, as far as a relay uses it). */
class Exchange implements Dispatcher.DispatchController {
  readonly handler: Dispatcher.DispatchHandler;
  readonly method: string;
  head = '';
  body: Buffer | null = null;
  connection: Connection | null = null;
  /** When the request was written (performance.now()), for the headers timeout. */
  sentAt = 0;
  /** The connection is not reused after this exchange (as undici sets `reset`). */
  noReuse = false;
  /** onResponseEnd or onResponseError was called: nothing more is. */
  ended = false;
  private isAborted = false;
  private isPaused = false;
  private abortReason: Error | null = null;

  constructor(handler: Dispatcher.DispatchHandler, method: string) {
    this.handler = handler;
    this.method = method;
  }

  get aborted(): boolean {
    return this.isAborted;
  }

  get paused(): boolean {
    return this.isPaused;
  }

  get reason(): Error | null {
    return this.abortReason;
  }

  /** As undici: the handler hears `onResponseError(reason)` at once, and the connection is closed. */
  abort(reason: Error): void {
    if (this.isAborted) return;
    this.isAborted = true;
    this.abortReason = reason;
    if (this.ended) return;
    if (this.connection) this.connection.abort(this, reason);
    else this.fail(reason);
  }

  /** Takes effect when the current callback returns: no more of the answer until `resume`. */
  pause(): void {
    this.isPaused = true;
  }

  resume(): void {
    if (!this.isPaused) return;
    this.isPaused = false;
    this.connection?.resume(this);
  }

  /** onResponseStart; false when the exchange ended meanwhile (aborted, or the handler threw: see `threw`). */
  started(status: number, headers: IncomingHttpHeaders, statusMessage: string): boolean {
    try {
      this.handler.onResponseStart?.(this, status, headers, statusMessage);
    } catch (error) {
      return this.threw(error);
    }
    return !this.ended;
  }

  /** onResponseData; false as for `started`. */
  data(chunk: Buffer): boolean {
    try {
      this.handler.onResponseData?.(this, chunk);
    } catch (error) {
      return this.threw(error);
    }
    return !this.ended;
  }

  /** onResponseEnd: the exchange is over. */
  finish(): void {
    this.ended = true;
    try {
      this.handler.onResponseEnd?.(this, NO_TRAILERS);
    } catch (error) {
      process.emitWarning(error as Error); // nothing may follow onResponseEnd: told, not lost
    }
  }

  /** The handler threw: the exchange fails with what it threw (undici's way), once the connection is closed. */
  private threw(error: unknown): false {
    this.abortReason ??= error as Error;
    this.isAborted = true;
    return false;
  }

  /** Fails the exchange: onResponseError, once. */
  fail(error: Error): void {
    if (this.ended) return;
    this.ended = true;
    try {
      this.handler.onResponseError?.(this, error);
    } catch (thrown) {
      process.emitWarning(thrown as Error);
    }
  }
}

/** What an answer's head says. */
interface AnswerHead {
  status: number;
  statusMessage: string;
  /** Lower-cased names; repeated headers as arrays (undici's `parseHeaders`). */
  headers: IncomingHttpHeaders;
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  /** A Transfer-Encoding was sent (chunked or not). */
  transferEncoding: boolean;
  /** The pod keeps the connection open after this answer. */
  keepAlive: boolean;
  /** How long it may be kept idle (undici's reading of `Keep-Alive: timeout=N`); ≤ 0: not at all. */
  keepAliveMs: number;
}

/** Characters of an HTTP token (RFC 9110 §5.6.2): what a header name may be made of. */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TOKEN[c.charCodeAt(0)] = 1;
const CLOSE_TOKEN = /(?:^|,)[\t ]*close[\t ]*(?:,|$)/i;
const KEEP_ALIVE_TOKEN = /(?:^|,)[\t ]*keep-alive[\t ]*(?:,|$)/i;
const KEEP_ALIVE_TIMEOUT = /timeout=(\d+)/;

/**
 * Parses an answer's head, `bytes[start, end)` (the blank line left out). Throws undici's
 * HTTPParserError for a head that is not HTTP/1.x, or one Node's `res.writeHead` would refuse
 * to pass on (a header name that is no token, a control character).
 */
function parseAnswerHead(bytes: Buffer, start: number, end: number): AnswerHead {
  if (!plainLines(bytes, start, end)) throw badAnswer('INVALID_HEADER_VALUE', 'Control character, or CR or LF outside a CRLF, in the head');
  const text = bytes.toString('latin1', start, end);
  // "HTTP/1.1 200 OK": version 1.0 or 1.1, three digits, an optional reason.
  let lineEnd = text.indexOf('\r\n');
  if (lineEnd === -1) lineEnd = text.length;
  const minor = text.charCodeAt(7) - 48;
  if (!text.startsWith('HTTP/1.') || (minor !== 0 && minor !== 1) || text.charCodeAt(8) !== 0x20 || (lineEnd > 12 && text.charCodeAt(12) !== 0x20)) {
    throw badAnswer('INVALID_CONSTANT', 'Expected HTTP/1.x status line');
  }
  const status = threeDigits(text, 9);
  if (status < 100 || lineEnd < 12) throw badAnswer('INVALID_STATUS', 'Invalid status code');
  const statusMessage = lineEnd > 13 ? text.slice(13, lineEnd) : '';
  const head: AnswerHead = {
    status, statusMessage, headers: {}, contentLength: -1, chunked: false, transferEncoding: false, keepAlive: minor === 1, keepAliveMs: KEEP_ALIVE_DEFAULT_MS,
  };
  let connection: string | null = null;
  for (let pos = lineEnd + 2; pos < text.length;) {
    let next = text.indexOf('\r\n', pos);
    if (next === -1) next = text.length;
    const colon = text.indexOf(':', pos);
    if (colon <= pos || colon > next) throw badAnswer('INVALID_HEADER_TOKEN', 'Header line without a name');
    if (!isToken(text, pos, colon)) throw badAnswer('INVALID_HEADER_TOKEN', 'Invalid header token (or an obsolete line folding)');
    // Leading blanks go; trailing ones stay, as undici (llhttp) leaves them.
    let from = colon + 1;
    while (from < next && isBlank(text.charCodeAt(from))) from++;
    const name = text.slice(pos, colon).toLowerCase();
    const value = text.slice(from, next);
    addHeader(head.headers as Record<string, string | string[]>, name, value);
    switch (name) {
      case 'content-length':
        if (head.contentLength >= 0) throw badAnswer('UNEXPECTED_CONTENT_LENGTH', 'Duplicate Content-Length');
        head.contentLength = decimal(value);
        if (head.contentLength < 0) throw badAnswer('INVALID_CONTENT_LENGTH', 'Invalid character in Content-Length');
        break;
      case 'transfer-encoding':
        head.transferEncoding = true;
        head.chunked = value === 'chunked' || /(?:^|,)[\t ]*chunked[\t ]*$/i.test(value);
        break;
      case 'connection':
        connection = connection === null ? value : `${connection},${value}`;
        break;
      case 'keep-alive':
        head.keepAliveMs = keepAliveMs(value);
        break;
    }
    pos = next + 2;
  }
  if (head.transferEncoding && head.contentLength >= 0) throw badAnswer('UNEXPECTED_CONTENT_LENGTH', 'Content-Length can\'t be present with Transfer-Encoding');
  if (connection === 'keep-alive') head.keepAlive = true;
  else if (connection !== null) head.keepAlive = !CLOSE_TOKEN.test(connection) && (minor === 1 || KEEP_ALIVE_TOKEN.test(connection));
  return head;
}

function addHeader(headers: Record<string, string | string[]>, name: string, value: string): void {
  let held = headers[name];
  if (held !== undefined && !Object.hasOwn(headers, name)) held = undefined; // a name like `constructor`
  if (held === undefined) {
    if (name === '__proto__') Object.defineProperty(headers, name, { value, enumerable: true, configurable: true, writable: true });
    else headers[name] = value;
  } else if (typeof held === 'string') headers[name] = [held, value];
  else held.push(value);
}

/** The last `Keep-Alive: timeout=N` read, and what it came to: pods send the same one every time. */
let lastKeepAlive = '';
let lastKeepAliveMs = KEEP_ALIVE_DEFAULT_MS;

function keepAliveMs(value: string): number {
  if (value !== lastKeepAlive) {
    const match = KEEP_ALIVE_TIMEOUT.exec(value);
    lastKeepAliveMs = match ? Math.min(Number(match[1]) * 1000 - KEEP_ALIVE_MARGIN_MS, KEEP_ALIVE_MAX_MS) : KEEP_ALIVE_DEFAULT_MS;
    lastKeepAlive = value;
  }
  return lastKeepAliveMs;
}

function isToken(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const code = text.charCodeAt(i);
    if (code > 127 || TOKEN[code] !== 1) return false;
  }
  return true;
}

function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** Whether `bytes[from, to)` has no control character but tabs, and CR and LF only as CRLF. One pass: a head's every byte is read here once. */
function plainLines(bytes: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const byte = bytes[i]!;
    if (byte >= 32 ? byte === 127 : byte !== 9 && !(byte === CR && i + 1 < to && bytes[i + 1] === LF) && !(byte === LF && i > from && bytes[i - 1] === CR)) return false;
  }
  return true;
}

function threeDigits(text: string, at: number): number {
  let n = 0;
  for (let i = at; i < at + 3; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (!(digit >= 0 && digit <= 9)) return -1;
    n = n * 10 + digit;
  }
  return n;
}

/** A decimal number of up to 15 digits, or -1. */
function decimal(text: string): number {
  if (text.length === 0 || text.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (!(digit >= 0 && digit <= 9)) return -1;
    n = n * 10 + digit;
  }
  return n;
}

/** Whether `bytes` holds an LF without its CR from `from` on (`start`: where the head begins). */
function hasBareLf(bytes: Buffer, start: number, from: number): boolean {
  for (let i = bytes.indexOf(LF, from); i !== -1; i = bytes.indexOf(LF, i + 1)) if (i === start || bytes[i - 1] !== CR) return true;
  return false;
}

function hexDigit(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48;
  const lower = byte | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

/** The request's head as undici writes it: request line, host, connection, the headers, content-length. */
function requestHead(request: PodRequest, host: string): string {
  const { method, path, headers, body } = request;
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\nconnection: keep-alive\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  if (body && body.length > 0) head += `content-length: ${body.length}\r\n`;
  else if (EXPECTS_PAYLOAD.has(method)) head += 'content-length: 0\r\n';
  return head + '\r\n';
}

/** `http://host:port` taken apart once per origin; an Error for anything this client does not dial. */
function parseOrigin(origin: string): { host: string; hostname: string; port: number } | Error {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return new errors.InvalidArgumentError(`invalid origin ${origin}`);
  }
  if (url.protocol !== 'http:') return new errors.InvalidArgumentError(`the pod client speaks plain http, not ${url.protocol} (${origin})`);
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host: url.host, hostname, port: url.port ? Number(url.port) : 80 };
}

function socketInfo(socket: Socket): SocketInfo {
  const { localAddress, localPort, remoteAddress, remotePort, remoteFamily, bytesWritten, bytesRead } = socket;
  return { localAddress, localPort, remoteAddress, remotePort, remoteFamily, bytesWritten, bytesRead };
}
