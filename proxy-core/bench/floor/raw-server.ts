// An HTTP/1.1 server made of a bare node:net server: each connection's requests are read one at
// a time (request line, headers, a Content-Length body; keep-alive unless `Connection: close`)
// and handed whole to a handler, which writes the answer's bytes itself. The client half of
// the floor studies (lean-server.ts, lean.ts) — not product code: no chunked request bodies
// (501), no pipelining beyond holding the next request until the answer is done, no timeouts.
import { createServer, type Server, type Socket } from 'node:net';
import { BadMessageError, parseHead, type Head } from './http1.ts';

/** A connection's requests, one at a time: `request` is called again only after `client.done()`. */
export interface RequestHandler {
  /** `bytes`: the head and the body as received (the body starts at `head.length`). */
  request(head: Head, bytes: Buffer): void;
}

export function createRawServer(handlerFor: (client: RawClient) => RequestHandler): Server {
  return createServer({ noDelay: true }, (socket) => {
    const client = new RawClient(socket);
    client.handler = handlerFor(client);
  });
}

export class RawClient {
  handler: RequestHandler | null = null;
  /** Bytes received and not yet handed on: the next request, or part of it. */
  private buffered: Buffer | null = null;
  private busy = false;
  private closeAfter = false;
  /** Whether anything of the current answer has been written. */
  private answered = false;
  private corked = false;
  /** Bound once per connection, not per answer. */
  private readonly uncork = () => {
    this.corked = false;
    this.socket.uncork();
  };

  readonly socket: Socket;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('error', () => {}); // a client gone mid-answer: its answer is dropped with it
  }

  /** Writes answer bytes; what one tick writes leaves in one syscall (writev), as node:http does. */
  write(data: Buffer | string): void {
    if (this.socket.destroyed) return;
    this.answered = true;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.socket.write(data);
  }

  /** The connection ends with the current answer (one framed by the connection's close). */
  closeAfterAnswer(): void {
    this.closeAfter = true;
  }

  /** The answer is written whole: the next request may be read. */
  done(): void {
    this.busy = false;
    if (this.closeAfter) this.socket.end();
    else if (this.buffered) this.next();
  }

  /** The answer could not be had: a 502 if nothing of it went out yet, else the connection cut. */
  fail(error: Error): void {
    if (this.answered) return void this.socket.destroy(error);
    this.closeAfter = true;
    this.write(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(error.message)}\r\nconnection: close\r\n\r\n${error.message}`);
    this.done();
  }

  private read(chunk: Buffer): void {
    this.buffered = this.buffered ? Buffer.concat([this.buffered, chunk]) : chunk;
    if (!this.busy) this.next();
  }

  private next(): void {
    const buf = this.buffered!;
    let head: Head | null;
    try {
      head = parseHead(buf);
    } catch (error) {
      return this.refuse(400, (error as BadMessageError).message);
    }
    if (!head) return;
    if (head.chunked) return this.refuse(501, 'chunked request bodies are not read by this floor study');
    const total = head.length + Math.max(0, head.contentLength);
    if (buf.length < total) return;
    this.buffered = buf.length > total ? buf.subarray(total) : null;
    this.busy = true;
    this.answered = false;
    this.closeAfter = head.close;
    this.handler!.request(head, total === buf.length ? buf : buf.subarray(0, total));
  }

  private refuse(status: number, why: string): void {
    this.busy = true;
    this.buffered = null;
    this.answered = true;
    this.socket.end(`HTTP/1.1 ${status} ${status === 400 ? 'Bad Request' : 'Not Implemented'}\r\ncontent-length: ${Buffer.byteLength(why)}\r\nconnection: close\r\n\r\n${why}`);
  }
}
