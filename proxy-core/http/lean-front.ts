// The lean client-facing front (`--http-front lean`): a session's follow-up `POST /mcp` —
// the proxy's hot path — read off the raw socket by a strict minimal HTTP/1.1 reader and served
// by light request/response objects, instead of node:http's parser glue, IncomingMessage,
// ServerResponse and their streams (4–13 µs a request, measured by bench/floor/). Everything
// that is not unmistakably such a POST hands its connection to node:http for good.
import type { IncomingHttpHeaders, OutgoingHttpHeader, OutgoingHttpHeaders, Server } from 'node:http';
import type { ProxyRequest, ProxyResponse } from './request-response.ts';
import { STATUS_CODES, validateHeaderName, validateHeaderValue } from 'node:http';
import type { Socket } from 'node:net';
import { Readable, Stream } from 'node:stream';

export interface LeanFrontOptions {
  /** Bodies up to this many bytes are read whole by the lean front; a larger Content-Length goes to node:http. */
  maxBodyBytes: number;
}

/** What the lean front did on one server (tests and benches read it). */
export interface LeanFrontStats {
  /** Requests served lean. */
  lean: number;
  /** Connections handed to node:http. */
  handedOver: number;
}

/** node:http's default `maxHeaderSize`: a longer head is node's to refuse (431). */
const MAX_HEAD = 16 * 1024;
/** Bytes of pipelined requests held while an answer is under way before the socket stops being read. */
const MAX_HELD = 64 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * Takes over how `server` treats new connections: plain POSTs are served lean; any other
 * request hands its connection, at a request boundary, to node:http's own connection listener
 * (the bytes read so far put back into the socket). `listen`, `close`, the request listener,
 * `closeAllConnections`/`closeIdleConnections` and the timeouts keep working.
 */
export function leanFront(server: Server, options: LeanFrontOptions): LeanFrontStats {
  const listeners = server.listeners('connection') as ((socket: Socket) => void)[];
  const nodeListener = listeners[0];
  // node:http's Server registers it in its constructor: anything else is not a server this can take over.
  if (!nodeListener || nodeListener.name !== 'connectionListener') throw new Error('leanFront: not a node:http server (no connectionListener)');
  const front = new Front(server, nodeListener, options);
  server.off('connection', nodeListener);
  server.prependListener('connection', (socket: Socket) => front.accept(socket));
  const closeAll = server.closeAllConnections;
  const closeIdle = server.closeIdleConnections;
  // On the instance: node's `close()` calls `this.closeIdleConnections()`, the drain both.
  server.closeAllConnections = function closeAllConnections() {
    closeAll.call(this);
    front.closeAll();
  };
  server.closeIdleConnections = function closeIdleConnections() {
    closeIdle.call(this);
    front.closeIdle();
  };
  server.on('listening', () => front.startSweep());
  if (server.listening) front.startSweep();
  return front.stats;
}

/** One server's lean connections and their coarse timeout sweep. */
class Front {
  readonly server: Server;
  readonly nodeListener: (socket: Socket) => void;
  readonly maxBody: number;
  readonly stats: LeanFrontStats = { lean: 0, handedOver: 0 };
  readonly connections = new Set<Connection>();
  /** A coarse clock (ms), set by the sweep: connections note when a phase began without reading the time per request. */
  clock = performance.now();
  private sweep: NodeJS.Timeout | null = null;
  private period = 1000;

  constructor(server: Server, nodeListener: (socket: Socket) => void, options: LeanFrontOptions) {
    this.server = server;
    this.nodeListener = nodeListener;
    this.maxBody = options.maxBodyBytes;
  }

  accept(socket: Socket): void {
    // A server limiting requests per connection wants node's counting and 503s.
    if ((this.server.maxRequestsPerSocket ?? 0) > 0) return this.handOver(socket, null);
    this.connections.add(new Connection(this, socket));
  }

  /** Gives `socket` to node:http: what was read and not consumed goes back into it first. */
  handOver(socket: Socket, unread: Buffer | null): void {
    this.stats.handedOver++;
    // Paused, node's listener leaves the socket paused (its own 'data' listener then waits); the
    // bytes put back flow to its parser on resume, before anything the kernel has since received.
    socket.pause();
    if (unread && unread.length > 0) socket.unshift(unread);
    this.nodeListener.call(this.server, socket);
    socket.resume();
  }

  closeAll(): void {
    for (const connection of this.connections) connection.socket.destroy();
  }

  closeIdle(): void {
    for (const connection of this.connections) if (connection.idle) connection.socket.destroy();
  }

  startSweep(): void {
    if (this.sweep) clearTimeout(this.sweep);
    this.tick();
  }

  /** Cuts connections past a timeout; runs a few times within the shortest one (at most every second). */
  private readonly tick = (): void => {
    const now = performance.now();
    this.clock = now;
    const { keepAliveTimeout, headersTimeout, requestTimeout } = this.server;
    // As node: the socket's timeout is the advertised one plus a margin (`keepAliveTimeoutBuffer`, node ≥ 24.?).
    const buffer = (this.server as { keepAliveTimeoutBuffer?: number }).keepAliveTimeoutBuffer ?? 1000;
    const keepAlive = keepAliveTimeout > 0 ? keepAliveTimeout + buffer : 0;
    // A phase's start is known to within one period: a connection is cut once it is surely past its timeout.
    for (const connection of this.connections) connection.checkTimeouts(now - this.period, keepAlive, headersTimeout, requestTimeout);
    const shortest = Math.min(...[keepAlive, headersTimeout, requestTimeout].filter((ms) => ms > 0), 4000);
    this.period = Math.max(10, Math.min(1000, shortest / 4));
    // Connections left after the server closed still time out; then the sweep stops until it listens again.
    this.sweep = this.server.listening || this.connections.size > 0 ? setTimeout(this.tick, this.period).unref() : null;
  };
}

// A connection's phases (numbers, not an enum: Node strips types, it does not compile enums).
const Phase = { Head: 0, Body: 1, Busy: 2, Gone: 3 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

/** The head of a plain POST, as parsed. */
interface PlainHead {
  /** Bytes of the head, blank line included. */
  length: number;
  url: string;
  rawHeaders: string[];
  headers: IncomingHttpHeaders;
  contentLength: number;
  keepAlive: boolean;
}

/** One client connection while it is lean: its requests one at a time, each answered before the next is read. */
class Connection {
  readonly front: Front;
  readonly socket: Socket;
  private phase: Phase = Phase.Head;
  /** Bytes received and not yet consumed (part of a request, or requests pipelined behind the current one). */
  private held: Buffer | null = null;
  /**
   * Chunks received after `held`, joined to it only when read: a body arriving in pieces, or
   * requests pipelined during an answer, are copied once, not once per piece.
   */
  private more: Buffer[] | null = null;
  /** Bytes in `held` and `more`. */
  private heldSize = 0;
  /** Where the search for the head's end resumes in `held`. */
  private scanned = 0;
  /** The head read, while its body arrives. */
  private head: PlainHead | null = null;
  /** When the current phase began (the front's coarse clock). */
  private since: number;
  /** The request whose answer is under way. */
  private request: LeanRequest | null = null;
  private response: LeanResponse | null = null;
  /** A request was answered: idle from then on, the keep-alive timeout applies. */
  private served = false;
  private paused = false;

  constructor(front: Front, socket: Socket) {
    this.front = front;
    this.socket = socket;
    this.since = front.clock;
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.on('drain', this.onDrain);
  }

  /** Nothing under way and nothing of a next request received: what `closeIdleConnections` closes. */
  get idle(): boolean {
    return this.phase === Phase.Head && this.held === null;
  }

  checkTimeouts(surelyBefore: number, keepAlive: number, headersTimeout: number, requestTimeout: number): void {
    if (this.since > surelyBefore) return;
    const age = surelyBefore - this.since;
    if (this.phase === Phase.Head && this.held === null && this.served) {
      // Idle after an answer: node's keep-alive timeout (its socket timeout; nothing is written).
      if (keepAlive > 0 && age >= keepAlive) this.socket.destroy();
    } else if ((this.phase === Phase.Head && headersTimeout > 0 && age >= headersTimeout) || (this.phase !== Phase.Busy && requestTimeout > 0 && age >= requestTimeout)) {
      // A head (or a first request that never came) or a body that never finished: node's 408.
      if (this.phase !== Phase.Gone) this.socket.end(REQUEST_TIMEOUT);
      this.socket.destroySoon();
    }
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.phase === Phase.Gone) return; // after the connection's last answer: dropped, as node does
    if (this.held === null) {
      this.held = chunk;
      if (this.phase === Phase.Head) this.since = this.front.clock;
    } else (this.more ??= []).push(chunk);
    this.heldSize += chunk.length;
    if (this.phase === Phase.Busy) {
      // Pipelined: kept until the answer under way is done; a flood stops being read.
      if (this.heldSize > MAX_HELD && !this.paused) {
        this.paused = true;
        this.socket.pause();
      }
      return;
    }
    if (this.phase === Phase.Body && this.heldSize < this.head!.length + this.head!.contentLength) return;
    this.read();
  };

  /** Reads what is held: serves the request it completes, or hands the connection over. */
  private read(): void {
    if (this.held === null) return;
    if (this.more !== null) {
      this.held = Buffer.concat([this.held, ...this.more], this.heldSize);
      this.more = null;
    }
    const buf = this.held;
    if (this.phase === Phase.Head) {
      const end = buf.indexOf(HEAD_END, Math.max(0, this.scanned - 3));
      if (end === -1) {
        // Not a POST, or a line ended by a bare LF: node's at once (its answer may be a 400), not after a timeout.
        if (!startsLikePost(buf) || hasBareLf(buf, this.scanned) || buf.length > MAX_HEAD) return this.handOver();
        this.scanned = buf.length;
        return;
      }
      this.scanned = 0;
      const head = end + 4 <= MAX_HEAD ? parsePlainHead(buf.toString('latin1', 0, end + 4), this.front.maxBody) : null;
      if (head === null) return this.handOver();
      this.head = head;
      this.phase = Phase.Body;
    }
    const head = this.head!;
    const total = head.length + head.contentLength;
    if (buf.length < total) return;
    this.held = buf.length > total ? buf.subarray(total) : null;
    this.heldSize = buf.length - total;
    this.head = null;
    this.serve(head, buf.subarray(head.length, total));
  }

  private serve(head: PlainHead, body: Buffer): void {
    this.phase = Phase.Busy;
    this.front.stats.lean++;
    const req = new LeanRequest(this.socket, head, body);
    const res = new LeanResponse(this, req, head.keepAlive);
    this.request = req;
    this.response = res;
    this.front.server.emit('request', req, res);
  }

  /** The answer's last bytes reached the socket: the next request may be read. */
  answered(res: LeanResponse, last: boolean): void {
    if (this.response !== res) return;
    this.response = null;
    this.request = null;
    this.served = true;
    if (this.phase === Phase.Gone) return;
    if (last) {
      this.phase = Phase.Gone;
      this.socket.destroySoon();
      return;
    }
    this.phase = Phase.Head;
    this.since = this.front.clock;
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    this.read();
  }

  /** The head held is not a plain POST: node:http reads this connection from here on. */
  private handOver(): void {
    const unread = this.more === null ? this.held : Buffer.concat([this.held!, ...this.more], this.heldSize);
    this.release();
    this.front.handOver(this.socket, unread);
  }

  private release(): void {
    this.phase = Phase.Gone;
    this.held = this.more = null;
    this.front.connections.delete(this);
    const { socket } = this;
    socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('error', this.onError);
    socket.off('close', this.onClose);
    socket.off('drain', this.onDrain);
  }

  private readonly onEnd = (): void => {
    // As node:http (no half-open HTTP): the client is done sending, the connection ends. A request
    // cut short is dropped (node answers it 400 first).
    if (this.phase === Phase.Busy) {
      this.phase = Phase.Gone;
      this.socket.end();
    } else if (this.held === null) this.socket.end();
    else this.socket.destroy();
  };

  /** Socket errors end in 'close'; listened to so that none crashes the process. */
  private readonly onError = (): void => {};

  private readonly onClose = (): void => {
    this.phase = Phase.Gone;
    this.held = this.more = null;
    this.front.connections.delete(this);
    const req = this.request;
    if (req && !req.destroyed) req.destroy(req.readableEnded ? undefined : connReset());
    this.response?.socketClosed();
  };

  private readonly onDrain = (): void => {
    this.response?.socketDrained();
  };
}

const POST_ = Buffer.from('POST ');

function startsLikePost(buf: Buffer): boolean {
  return POST_.compare(buf, 0, Math.min(5, buf.length), 0, Math.min(5, buf.length)) === 0;
}

function hasBareLf(buf: Buffer, from: number): boolean {
  for (let lf = buf.indexOf(0x0a, from); lf !== -1; lf = buf.indexOf(0x0a, lf + 1)) if (lf === 0 || buf[lf - 1] !== 0x0d) return true;
  return false;
}

/** node:http's answer to a request that took too long to arrive. */
const REQUEST_TIMEOUT = Buffer.from('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n', 'latin1');

/**
 * A plain POST's whole head (blank line included, latin1) checked strictly and parsed; null
 * for anything else — node:http then reads it, with its own checks and answers.
 */
function parsePlainHead(text: string, maxBody: number): PlainHead | null {
  const match = PLAIN_HEAD.exec(text);
  if (match === null) return null;
  const url = match[1]!;
  const rawHeaders: string[] = [];
  const headers: IncomingHttpHeaders = {};
  let contentLength = -1;
  let keepAlive = true;
  let hosts = 0;
  const lines = match[2]!;
  let at = 0;
  while (at < lines.length) {
    const eol = lines.indexOf('\r\n', at);
    const colon = lines.indexOf(':', at);
    const name = lines.slice(at, colon);
    let from = colon + 1;
    let to = eol;
    while (from < to && isOws(lines.charCodeAt(from))) from++;
    while (to > from && isOws(lines.charCodeAt(to - 1))) to--;
    const value = lines.slice(from, to);
    at = eol + 2;
    rawHeaders.push(name, value);
    const lower = name.toLowerCase();
    switch (lower) {
      case 'content-length':
        if (contentLength !== -1 || !DIGITS.test(value)) return null;
        contentLength = Number(value);
        if (contentLength > maxBody) return null;
        break;
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
        return null;
      case 'host':
        hosts++;
        break;
      case 'connection':
        for (const token of value.toLowerCase().split(',')) {
          const option = token.trim();
          if (option === 'close') keepAlive = false;
          else if (option === 'upgrade') return null;
        }
        break;
    }
    addHeaderLine(headers, lower, value);
  }
  // No length, or no single Host (node answers 400 to a request without one): node's to judge.
  if (contentLength === -1 || hosts !== 1) return null;
  return { length: text.length, url, rawHeaders, headers, contentLength, keepAlive };
}

const isOws = (code: number) => code === 0x20 || code === 0x09;
const DIGITS = /^\d{1,15}$/;
/**
 * `POST`, an origin-form target of plain URI characters, HTTP/1.1, then header lines of a
 * token, a colon and a value without control characters (no obs-fold: a line cannot start
 * with a space), each ended by CRLF; then the blank line. Linear: no part can match two ways.
 */
const PLAIN_HEAD = /^POST (\/[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*) HTTP\/1\.1\r\n((?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*\r\n)*)\r\n$/;

/** Fields node:http keeps only the first of (lib/_http_incoming.js, matchKnownFields). */
const FIRST_ONLY = new Set([
  'age', 'host', 'from', 'etag', 'server', 'referer', 'expires', 'location', 'user-agent', 'retry-after', 'content-type', 'max-forwards',
  'authorization', 'last-modified', 'content-length', 'if-modified-since', 'proxy-authorization', 'if-unmodified-since',
]);

/** node:http's `_addHeaderLine` (without `joinDuplicateHeaders`): `set-cookie` a list, first-only fields kept once, `cookie` joined by '; ', others by ', '. */
function addHeaderLine(headers: IncomingHttpHeaders, name: string, value: string): void {
  if (name === 'set-cookie') {
    const list = headers['set-cookie'];
    if (list !== undefined) list.push(value);
    else headers['set-cookie'] = [value];
  } else if (FIRST_ONLY.has(name)) {
    if (headers[name] === undefined) headers[name] = value;
  } else {
    const previous = headers[name];
    headers[name] = typeof previous === 'string' ? previous + (name === 'cookie' ? '; ' : ', ') + value : value;
  }
}

function connReset(): Error {
  return Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
}

/** A lean request: its head parsed, its body whole, read as a stream as node's is. */
class LeanRequest extends Readable implements ProxyRequest {
  readonly method = 'POST';
  readonly url: string;
  readonly httpVersion = '1.1';
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor = 1;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly trailers: NodeJS.Dict<string> = {};
  readonly rawTrailers: string[] = [];
  readonly socket: Socket;
  readonly complete = true;
  aborted = false;

  constructor(socket: Socket, head: PlainHead, body: Buffer) {
    super();
    this.socket = socket;
    this.url = head.url;
    this.headers = head.headers;
    this.rawHeaders = head.rawHeaders;
    if (body.length > 0) this.push(body);
    this.push(null);
  }

  get connection(): Socket {
    return this.socket;
  }

  override _read(): void {} // all of it was pushed

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // As node's: a request destroyed before its body was read takes its connection with it.
    if (!this.readableEnded) {
      this.aborted = true;
      this.emit('aborted');
      if (!this.socket.destroyed) this.socket.destroy(error ?? undefined);
    }
    // As node's: the error is emitted only to a listener (a request nobody reads must not crash the process).
    callback(this.listenerCount('error') > 0 ? error : null);
  }
}

type HeaderValue = number | string | readonly string[];

/**
 * A lean response, written on the socket as node's ServerResponse writes it: the head stored
 * at `writeHead` (or the first write) and sent with the first body bytes; `Date`, `Connection`
 * and `Keep-Alive` added; chunked framing when no length was given. A legacy stream (as
 * ServerResponse is), so that `pipeline` can end in it.
 */
class LeanResponse extends Stream implements ProxyResponse {
  statusCode = 200;
  statusMessage: string | undefined = undefined;
  sendDate = true;
  readonly req: LeanRequest;
  socket: Socket | null;
  destroyed = false;
  /** `end()` was called (node's `finished`). */
  finished = false;
  private readonly connection: Connection;
  /** Lower-cased name → [name as set, value]; made on the first `setHeader`. */
  private outHeaders: Record<string, [string, HeaderValue]> | null = null;
  /** The stored head, once decided (node's `_header`). */
  private head: string | null = null;
  private headSent = false;
  private chunked = false;
  private hasBody = true;
  private keepAlive: boolean;
  /** The connection ends with this answer. */
  private last = false;
  private contentLength: number | null = null;
  private removedDate = false;
  private needDrain = false;
  private finishedWriting = false;
  private closed = false;
  /** This tick's writes are corked (node's kCorked). */
  private corked = false;
  /** Chunked writes of this tick, [chunk, encoding, callback, …], sent as one chunk on uncork (node's kChunkedBuffer). */
  private held: (string | Uint8Array | BufferEncoding | ((error?: Error | null) => void) | null)[] | null = null;
  private heldLength = 0;

  constructor(connection: Connection, req: LeanRequest, keepAlive: boolean) {
    super();
    this.connection = connection;
    this.req = req;
    this.socket = connection.socket;
    this.keepAlive = keepAlive;
  }

  get headersSent(): boolean {
    return this.head !== null;
  }

  get writableEnded(): boolean {
    return this.finished;
  }

  get writableFinished(): boolean {
    return this.finishedWriting;
  }

  get writable(): boolean {
    return !this.finished && !this.destroyed;
  }

  get writableLength(): number {
    return this.socket?.writableLength ?? 0;
  }

  get writableHighWaterMark(): number {
    return this.socket?.writableHighWaterMark ?? 16 * 1024;
  }

  get writableNeedDrain(): boolean {
    return this.needDrain;
  }

  get writableCorked(): number {
    return this.socket?.writableCorked ?? 0;
  }

  get writableObjectMode(): boolean {
    return false;
  }

  setHeader(name: string, value: HeaderValue): this {
    if (this.head !== null) throw headersSentError('set');
    checkHeader(name, value);
    (this.outHeaders ??= Object.create(null) as Record<string, [string, HeaderValue]>)[name.toLowerCase()] = [name, value];
    return this;
  }

  getHeader(name: string): number | string | string[] | undefined {
    return this.outHeaders?.[name.toLowerCase()]?.[1] as number | string | string[] | undefined;
  }

  hasHeader(name: string): boolean {
    return this.outHeaders?.[name.toLowerCase()] !== undefined;
  }

  getHeaderNames(): string[] {
    return this.outHeaders ? Object.keys(this.outHeaders) : [];
  }

  removeHeader(name: string): void {
    if (this.head !== null) throw headersSentError('remove');
    const lower = name.toLowerCase();
    if (lower === 'date') this.removedDate = true;
    if (this.outHeaders) delete this.outHeaders[lower];
  }

  writeHead(statusCode: number, reason?: string | OutgoingHttpHeaders | OutgoingHttpHeader[], headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this {
    if (this.head !== null) throw headersSentError('write');
    const status = statusCode | 0;
    if (status < 100 || status > 999) throw Object.assign(new RangeError(`Invalid status code: ${statusCode}`), { code: 'ERR_HTTP_INVALID_STATUS_CODE' });
    if (typeof reason === 'string') this.statusMessage = reason;
    else {
      this.statusMessage ||= STATUS_CODES[status] ?? 'unknown';
      headers ??= reason;
    }
    this.statusCode = status;
    if (INVALID_VALUE.test(this.statusMessage)) throw Object.assign(new TypeError('Invalid character in statusMessage'), { code: 'ERR_INVALID_CHAR' });
    if (status === 204 || status === 304 || status < 200) this.hasBody = false;
    let lines = `HTTP/1.1 ${status} ${this.statusMessage}\r\n`;
    const seen: Seen = { connection: false, length: false, te: false, date: false };
    if (this.outHeaders) {
      // As node: headers given here override those set before (a flat list may repeat a name).
      if (Array.isArray(headers)) {
        for (let i = 0; i < headers.length; i += 2) this.removeHeader(String(headers[i]));
        for (let i = 0; i < headers.length; i += 2) this.appendHeader(String(headers[i]), headers[i + 1] as HeaderValue);
      } else if (headers) {
        for (const name of Object.keys(headers)) if (name) this.setHeader(name, headers[name] as HeaderValue);
      }
      for (const lower in this.outHeaders) {
        const [name, value] = this.outHeaders[lower]!;
        lines = this.headerLines(lines, seen, name, value, false);
      }
    } else if (Array.isArray(headers)) {
      if (headers.length % 2 !== 0) throw Object.assign(new TypeError('The argument \'headers\' is invalid'), { code: 'ERR_INVALID_ARG_VALUE' });
      for (let i = 0; i < headers.length; i += 2) lines = this.headerLines(lines, seen, String(headers[i]), headers[i + 1] as HeaderValue, true);
    } else if (headers) {
      for (const name in headers) if (Object.hasOwn(headers, name)) lines = this.headerLines(lines, seen, name, headers[name] as HeaderValue, true);
    }
    this.head = this.completeHead(lines, seen);
    return this;
  }

  flushHeaders(): void {
    if (this.head === null) this.writeHead(this.statusCode);
    if (this.headSent || this.destroyed || !this.socket) return;
    this.headSent = true;
    this.socket.write(this.head!, 'latin1');
  }

  write(chunk: string | Uint8Array, encoding?: BufferEncoding | ((error?: Error | null) => void), callback?: (error?: Error | null) => void): boolean {
    if (typeof encoding === 'function') {
      callback = encoding;
      encoding = undefined;
    }
    checkChunk(chunk);
    if (this.finished || this.destroyed) {
      const error = this.finished ? codeError('write after end', 'ERR_STREAM_WRITE_AFTER_END') : codeError('Cannot call write after a stream was destroyed', 'ERR_STREAM_DESTROYED');
      if (callback) process.nextTick(callback, error);
      if (!this.destroyed) process.nextTick(() => this.emit('error', error));
      return false;
    }
    if (this.head === null) this.writeHead(this.statusCode);
    if (!this.hasBody) {
      if (callback) process.nextTick(callback);
      return true;
    }
    const socket = this.socket!;
    // What one tick writes leaves in one syscall (the head with the first chunk) and, chunked,
    // as one chunk: as node's.
    if (!this.corked && !socket.writableCorked) {
      this.corked = true;
      socket.cork();
      process.nextTick(uncorkResponse, this);
    }
    if (this.corked && this.chunked && (chunk.length !== 0 || this.held !== null)) {
      (this.held ??= []).push(chunk, encoding ?? 'utf8', callback ?? null);
      this.heldLength += typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : chunk.byteLength;
      // The writer waits for 'drain' when the socket is full (its 'drain' then comes).
      if (socket.writableNeedDrain) this.needDrain = true;
      return !this.needDrain;
    }
    return this.send(socket, chunk, encoding, callback ?? null, false);
  }

  /** The tick's writes go out: chunks held as one chunk, then the socket uncorked. */
  uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    const socket = this.socket;
    if (socket === null) return;
    this.flushHeld(socket, false);
    socket.uncork();
  }

  /** The chunks held this tick as one chunk; `last`: the answer's end follows. */
  private flushHeld(socket: Socket, last: boolean): void {
    const held = this.held;
    if (held === null) return;
    this.held = null;
    const callbacks: ((error?: Error | null) => void)[] = [];
    this.sendRaw(socket, `${this.heldLength.toString(16)}\r\n`, 'latin1', null);
    this.heldLength = 0;
    for (let i = 0; i < held.length; i += 3) {
      socket.write(held[i] as string | Uint8Array, held[i + 1] as BufferEncoding);
      const callback = held[i + 2] as ((error?: Error | null) => void) | null;
      if (callback) callbacks.push(callback);
    }
    const done = last ? this.onLastWritten : callbacks.length === 0 ? undefined : (error?: Error | null) => {
      for (const callback of callbacks) callback(error);
    };
    if (!socket.write(last ? CRLF_LAST_CHUNK : '\r\n', 'latin1', done)) this.needDrain = true;
  }

  end(chunk?: string | Uint8Array | (() => void), encoding?: BufferEncoding | (() => void), callback?: () => void): this {
    if (typeof chunk === 'function') {
      callback = chunk;
      chunk = undefined;
    } else if (typeof encoding === 'function') {
      callback = encoding;
      encoding = undefined;
    }
    if (this.finished) {
      if (chunk) {
        const error = codeError('write after end', 'ERR_STREAM_WRITE_AFTER_END');
        process.nextTick(() => this.emit('error', error));
      }
      if (callback) {
        if (this.finishedWriting) process.nextTick(callback, codeError('Cannot call end after a stream was finished', 'ERR_STREAM_ALREADY_FINISHED'));
        else this.once('finish', callback);
      }
      return this;
    }
    if (chunk) checkChunk(chunk);
    const bodyEncoding = encoding as BufferEncoding | undefined;
    if (callback) this.once('finish', callback);
    this.finished = true;
    if (this.destroyed || !this.socket) return this;
    const socket = this.socket;
    if (this.head === null) {
      // The whole body is known: node sends its length rather than chunks.
      this.contentLength = chunk ? (typeof chunk === 'string' ? Buffer.byteLength(chunk, bodyEncoding) : chunk.byteLength) : 0;
      this.writeHead(this.statusCode);
    }
    socket.cork();
    if (this.held !== null) {
      // Chunks of this tick held: the last one joins them, and the answer ends behind them.
      if (chunk && chunk.length > 0) {
        this.held.push(chunk, bodyEncoding ?? 'utf8', null);
        this.heldLength += typeof chunk === 'string' ? Buffer.byteLength(chunk, bodyEncoding) : chunk.byteLength;
      }
      this.flushHeld(socket, true);
    } else if (chunk && this.hasBody) this.send(socket, chunk, bodyEncoding, null, true);
    else if (this.hasBody && this.chunked) this.sendRaw(socket, LAST_CHUNK, 'latin1', this.onLastWritten);
    else this.sendRaw(socket, '', 'latin1', this.onLastWritten);
    // All of it to the kernel now, as node's end() does (uncorks fully).
    this.corked = false;
    while (socket.writableCorked) socket.uncork();
    return this;
  }

  destroy(error?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    // As node's: the socket goes, and its 'close' emits this one's.
    this.socket?.destroy(error);
    return this;
  }

  /** Adds a value to a header set before (node's appendHeader). */
  private appendHeader(name: string, value: HeaderValue): void {
    const lower = name.toLowerCase();
    const existing = this.outHeaders?.[lower];
    if (!existing) {
      this.setHeader(name, value);
      return;
    }
    checkHeader(name, value);
    const before = Array.isArray(existing[1]) ? existing[1] as readonly string[] : [String(existing[1])];
    existing[1] = [...before, ...(Array.isArray(value) ? value as readonly string[] : [String(value)])];
  }

  /** A header's lines added to the head (node's processHeader/storeHeader/matchHeader). */
  private headerLines(lines: string, seen: Seen, name: string, value: HeaderValue, validate: boolean): string {
    if (validate) checkHeader(name, value);
    if (Array.isArray(value)) {
      if (value.length < 2 || name.toLowerCase() !== 'cookie') {
        for (const one of value as readonly string[]) lines = this.headerLine(lines, seen, name, String(one));
        return lines;
      }
      return this.headerLine(lines, seen, name, (value as readonly string[]).join('; '));
    }
    return this.headerLine(lines, seen, name, String(value));
  }

  private headerLine(lines: string, seen: Seen, name: string, value: string): string {
    if (name.length >= 4 && name.length <= 17) {
      switch (name.toLowerCase()) {
        case 'connection':
          seen.connection = true;
          if (CONNECTION_CLOSE.test(value)) this.last = true;
          else this.keepAlive = true;
          break;
        case 'transfer-encoding':
          seen.te = true;
          if (TE_CHUNKED.test(value)) this.chunked = true;
          break;
        case 'content-length':
          seen.length = true;
          this.contentLength = +value;
          break;
        case 'date':
          seen.date = true;
          break;
      }
    }
    return `${lines}${name}: ${value}\r\n`;
  }

  /** The headers the server adds (node's _storeHeader). */
  private completeHead(lines: string, seen: Seen): string {
    if (this.sendDate && !this.removedDate && !seen.date) lines += `Date: ${utcDate()}\r\n`;
    if (this.chunked && (this.statusCode === 204 || this.statusCode === 304)) {
      this.chunked = false;
      this.keepAlive = false;
    }
    if (!seen.connection) {
      if (this.keepAlive) {
        lines += 'Connection: keep-alive\r\n';
        const timeout = this.connection.front.server.keepAliveTimeout;
        if (timeout) lines += `Keep-Alive: timeout=${Math.floor(timeout / 1000)}\r\n`;
      } else {
        this.last = true;
        lines += 'Connection: close\r\n';
      }
    }
    if (!seen.length && !seen.te) {
      if (!this.hasBody) this.chunked = false;
      else if (this.contentLength !== null) lines += `Content-Length: ${this.contentLength}\r\n`;
      else {
        lines += 'Transfer-Encoding: chunked\r\n';
        this.chunked = true;
      }
    }
    return `${lines}\r\n`;
  }

  /** A body chunk, framed when chunked; `last`: the answer's end follows it. */
  private send(socket: Socket, chunk: string | Uint8Array, encoding: BufferEncoding | undefined, callback: ((error?: Error | null) => void) | null, last: boolean): boolean {
    const done = last ? this.onLastWritten : callback;
    if (!this.chunked) return this.sendRaw(socket, chunk, encoding, done);
    if (chunk.length === 0) {
      if (last) return this.sendRaw(socket, LAST_CHUNK, 'latin1', done);
      if (done) process.nextTick(done);
      return true;
    }
    const length = typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : chunk.byteLength;
    this.sendRaw(socket, `${length.toString(16)}\r\n`, 'latin1', null);
    socket.write(chunk, encoding ?? 'utf8');
    return socket.write(last ? CRLF_LAST_CHUNK : '\r\n', 'latin1', done ?? undefined);
  }

  /** Bytes to the socket, the stored head in front of the first. */
  private sendRaw(socket: Socket, data: string | Uint8Array, encoding: BufferEncoding | undefined, callback: ((error?: Error | null) => void) | null): boolean {
    if (!this.headSent) {
      this.headSent = true;
      // Written apart: corked, it leaves with the data in one writev.
      socket.write(this.head!, 'latin1');
    }
    const ok = socket.write(data, encoding ?? 'utf8', callback ?? undefined);
    if (!ok) this.needDrain = true;
    return ok;
  }

  /** The last bytes reached the socket: 'finish', then 'close' a tick later, as node's. */
  private readonly onLastWritten = (error?: Error | null): void => {
    if (error || this.finishedWriting) return; // the socket is going: its 'close' closes this
    this.finishedWriting = true;
    this.socket = null;
    this.emit('finish');
    this.connection.answered(this, this.last);
    process.nextTick(emitClose, this);
  };

  /** The socket closed: an answer under way ends here (node's abortOutgoing / onServerResponseClose). */
  socketClosed(): void {
    if (this.closed) return;
    this.destroyed = true;
    this.closed = true;
    this.emit('close');
  }

  socketDrained(): void {
    if (this.needDrain && !this.finished) {
      this.needDrain = false;
      this.emit('drain');
    }
  }

  /** After 'finish': node marks the response destroyed and emits 'close' a tick later. */
  closeAfterFinish(): void {
    if (this.closed) return;
    this.destroyed = true;
    this.closed = true;
    this.emit('close');
  }
}

interface Seen {
  connection: boolean;
  length: boolean;
  te: boolean;
  date: boolean;
}

function emitClose(res: LeanResponse): void {
  res.closeAfterFinish();
}

function uncorkResponse(res: LeanResponse): void {
  res.uncork();
}

const LAST_CHUNK = '0\r\n\r\n';
const CRLF_LAST_CHUNK = '\r\n0\r\n\r\n';
const CONNECTION_CLOSE = /(?:^|\W)close(?:$|\W)/i;
const TE_CHUNKED = /(?:^|\W)chunked(?:$|\W)/i;
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** node's own header checks, as its ServerResponse makes them: a response cannot be split by a header. */
function checkHeader(name: string, value: HeaderValue): void {
  validateHeaderName(name);
  validateHeaderValue(name, value as string); // typed for strings; node's setHeader hands it numbers and lists too
}

function checkChunk(chunk: unknown): void {
  if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) {
    throw Object.assign(new TypeError('The "chunk" argument must be of type string or an instance of Buffer or Uint8Array'), { code: 'ERR_INVALID_ARG_TYPE' });
  }
}

function headersSentError(what: string): Error {
  return codeError(`Cannot ${what} headers after they are sent to the client`, 'ERR_HTTP_HEADERS_SENT');
}

function codeError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

let dateCache: string | null = null;

/** The `Date` header, made once a second (node's utcDate). */
function utcDate(): string {
  if (dateCache === null) {
    const now = new Date();
    dateCache = now.toUTCString();
    setTimeout(() => (dateCache = null), 1000 - now.getMilliseconds()).unref();
  }
  return dateCache;
}
