// `node proxy-core/bench/floor/lean-server.ts <pod URL>…` — a FLOOR STUDY, NOT A PROXY: the bare
// pass-through (bare-proxy.ts) with node:http's server swapped out. The client side is a bare
// node:net server (raw-server.ts: request line, headers, a Content-Length body, keep-alive);
// the pod side is an undici Pool per pod with a dispatch handler, as there; the answer's head
// and body are written to the client's socket by hand (chunked framing made here when the pod
// sent no length). What it saves against bare is what node:http's server costs.
import { Pool, type Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import { headerPairs, HOP_BY_HOP, methodOf, responseHasBody, type Head } from './http1.ts';
import { listenAndSay, podsFromArgs } from './listen.ts';
import { Pins } from './pins.ts';
import { createRawServer, type RawClient, type RequestHandler } from './raw-server.ts';

const pods = podsFromArgs('lean-server.ts');
const pools = pods.map((pod) => new Pool(pod.origin, { bodyTimeout: 0 }));
const pins = new Pins(pods.length);
/** undici writes the request's own length. */
const NOT_FORWARDED: ReadonlySet<string> = new Set([...HOP_BY_HOP, 'content-length']);

/** One client connection's requests: each dispatched to its pod, the answer written back by hand. */
class UndiciRelay implements RequestHandler, Dispatcher.DispatchHandler {
  private pod = 0;
  private method = '';
  /** The pod sent no length: the answer goes to the client chunked. */
  private chunked = false;

  private readonly client: RawClient;

  constructor(client: RawClient) {
    this.client = client;
  }

  request(head: Head, bytes: Buffer): void {
    this.pod = pins.pick(head.sessionId);
    this.method = methodOf(head);
    const path = head.startLine.slice(this.method.length + 1, head.startLine.lastIndexOf(' '));
    const request = { path, method: this.method as Dispatcher.HttpMethod, headers: headerPairs(head.lines, NOT_FORWARDED), body: bytes.subarray(head.length) };
    pools[this.pod]!.dispatch(request, this); // one request at a time per connection: the handler can be reused
  }

  onRequestStart(): void {} // undici tells the handler kinds apart by this one

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    const id = headers['mcp-session-id'];
    if (typeof id === 'string') pins.pin(id, this.pod);
    let text = `HTTP/1.1 ${status} ${statusMessage ?? ''}\r\n`;
    for (const name in headers) {
      if (HOP_BY_HOP.has(name)) continue;
      const value = headers[name]!;
      if (Array.isArray(value)) for (const one of value) text += `${name}: ${one}\r\n`;
      else text += `${name}: ${value}\r\n`;
    }
    this.chunked = headers['content-length'] === undefined && responseHasBody(this.method, status);
    if (this.chunked) text += 'transfer-encoding: chunked\r\n';
    this.client.write(`${text}\r\n`); // held until the tick ends: it leaves with the body when the body came with it
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.chunked) return void this.client.write(chunk);
    this.client.write(`${chunk.length.toString(16)}\r\n`);
    this.client.write(chunk);
    this.client.write('\r\n');
  }

  onResponseEnd(): void {
    if (this.chunked) this.client.write('0\r\n\r\n');
    this.client.done();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.client.fail(error);
  }
}

listenAndSay(createRawServer((client) => new UndiciRelay(client)), 'lean-server floor study (raw server, undici upstream; not a proxy)', pods[0]!.pathname);
