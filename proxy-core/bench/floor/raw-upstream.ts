// A pod's keep-alive connections made of bare node:net sockets, one request at a time on each:
// the request goes out as the bytes it is given, the answer's head is parsed just enough to
// know where the answer ends (http1.ts), and its bytes go to a sink as they arrive. The
// upstream half of the floor studies (lean-upstream.ts, lean.ts) — not product code: no
// retries, no timeouts, no limits on connections.
import { connect, type Socket } from 'node:net';
import { BodyFraming, parseHead, responseHasBody, statusOf, type Head } from './http1.ts';

/** Where an answer goes. */
export interface AnswerSink {
  /** The answer's head has arrived (before any of its bytes are handed on). */
  head(head: Head): void;
  /** Bytes of the answer: as on the wire (head and framed body), or only the body's payload when the pod decodes. */
  bytes(chunk: Buffer): void;
  end(): void;
  fail(error: Error): void;
}

/** Idle connections older than this are not reused: the pod may be closing them (Node servers close at 5 s by default). */
const IDLE_REUSE_MS = 2_000;

export class PodConnections {
  private readonly idle: UpstreamConnection[] = [];
  readonly url: URL;
  /** The Host header for this pod ("127.0.0.1:8080"). */
  readonly host: string;
  /** Sinks get the body's payload (chunked framing taken off), not the wire bytes. */
  readonly decode: boolean;

  constructor(url: URL, decode: boolean) {
    this.url = url;
    this.host = url.host;
    this.decode = decode;
  }

  /** Sends one request (`bytes`: its head and body) on an idle connection or a new one; the answer goes to `sink`. */
  send(bytes: Buffer, method: string, sink: AnswerSink): void {
    let connection = this.idle.pop();
    while (connection && performance.now() - connection.idleSince > IDLE_REUSE_MS) {
      connection.socket.destroy();
      connection = this.idle.pop();
    }
    (connection ?? new UpstreamConnection(this)).send(bytes, method, sink);
  }

  release(connection: UpstreamConnection): void {
    connection.idleSince = performance.now();
    this.idle.push(connection);
  }

  forget(connection: UpstreamConnection): void {
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
  }
}

class UpstreamConnection {
  readonly socket: Socket;
  idleSince = 0;
  private sink: AnswerSink | null = null;
  private method = '';
  /** The answer's head while it is still arriving. */
  private partial: Buffer | null = null;
  private head: Head | null = null;
  private readonly framing = new BodyFraming();
  /** Bound once: the payload callback `framing.feed` takes when the pod decodes. */
  private readonly payload: ((chunk: Buffer) => void) | undefined;

  private readonly pod: PodConnections;

  constructor(pod: PodConnections) {
    this.pod = pod;
    this.socket = connect(Number(pod.url.port), pod.url.hostname);
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    this.socket.on('error', (error) => this.lost(error));
    this.socket.on('close', () => this.lost(new Error('the pod closed the connection')));
    this.payload = pod.decode ? (chunk) => this.sink?.bytes(chunk) : undefined;
  }

  send(bytes: Buffer, method: string, sink: AnswerSink): void {
    this.sink = sink;
    this.method = method;
    this.socket.write(bytes);
  }

  private read(chunk: Buffer): void {
    const sink = this.sink;
    if (!sink) return void this.socket.destroy(); // bytes nobody asked for
    let from = 0;
    if (!this.head) {
      const buf = this.partial ? Buffer.concat([this.partial, chunk]) : chunk;
      let head: Head | null;
      try {
        head = parseHead(buf);
      } catch (error) {
        return void this.socket.destroy(error as Error);
      }
      if (!head) return void (this.partial = buf);
      this.partial = null;
      chunk = buf;
      this.head = head;
      this.framing.start(head, responseHasBody(this.method, statusOf(head)), true);
      sink.head(head);
      from = head.length;
    }
    let end: number;
    try {
      end = this.framing.feed(chunk, from, this.payload);
    } catch (error) {
      return void this.socket.destroy(error as Error);
    }
    if (!this.pod.decode) sink.bytes(end < 0 || end === chunk.length ? chunk : chunk.subarray(0, end));
    if (end < 0) return;
    if (end < chunk.length) return void this.socket.destroy(new Error('the pod sent more than one answer'));
    this.finish(!this.head!.close);
  }

  private finish(reuse: boolean): void {
    const sink = this.sink!;
    this.sink = null;
    this.head = null;
    if (reuse) this.pod.release(this);
    else this.socket.end();
    sink.end();
  }

  private lost(error: Error): void {
    this.pod.forget(this);
    if (!this.sink) return;
    // An answer that runs until the connection closes has ended; any other is cut.
    if (this.framing.untilClose) this.finish(false);
    else {
      const sink = this.sink;
      this.sink = null;
      sink.fail(error);
    }
  }
}
