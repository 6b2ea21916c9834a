// `node proxy-core/bench/floor/lean-upstream.ts <pod URL>…` — a FLOOR STUDY, NOT A PROXY: the
// bare pass-through (bare-proxy.ts) with undici swapped out. The client side is node:http as
// there; the pod side is raw node:net keep-alive sockets (raw-upstream.ts): the request written
// as one buffer, the answer's head parsed just enough (status, Content-Length or chunked, the
// session id), its payload written to the client's ServerResponse. What it saves against bare
// is what undici costs. Pinned by Mcp-Session-Id as bare-proxy.ts is; no MCP logic.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { headerPairs, HOP_BY_HOP, statusOf, type Head } from './http1.ts';
import { listenAndSay, podsFromArgs } from './listen.ts';
import { Pins } from './pins.ts';
import { PodConnections, type AnswerSink } from './raw-upstream.ts';

const pods = podsFromArgs('lean-upstream.ts');
// Sinks get the payload: node:http frames it again for the client.
const upstreams = pods.map((url) => new PodConnections(url, true));
const pins = new Pins(pods.length);
/** The request's own length is written from the body read. */
const NOT_FORWARDED: ReadonlySet<string> = new Set([...HOP_BY_HOP, 'content-length']);

/** One answer, from the pod's socket to the client's ServerResponse. */
class ResponseRelay implements AnswerSink {
  private readonly res: ServerResponse;
  private readonly pod: number;

  constructor(res: ServerResponse, pod: number) {
    this.res = res;
    this.pod = pod;
  }

  head(head: Head): void {
    pins.pin(head.sessionId, this.pod);
    // Content-Length stays; a chunked answer's framing is node:http's to make again.
    this.res.writeHead(statusOf(head), headerPairs(head.lines, HOP_BY_HOP));
  }

  bytes(chunk: Buffer): void {
    this.res.write(chunk);
  }

  end(): void {
    this.res.end();
  }

  fail(error: Error): void {
    if (this.res.headersSent) this.res.destroy(error);
    else this.res.writeHead(502, { 'content-type': 'text/plain' }).end(error.message);
  }
}

/** The request as the pod gets it, head and body in one buffer. */
function requestBytes(req: IncomingMessage, body: Buffer, host: string): Buffer {
  let text = `${req.method} ${req.url} HTTP/1.1\r\nHost: ${host}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (!NOT_FORWARDED.has(raw[i]!.toLowerCase())) text += `${raw[i]}: ${raw[i + 1]}\r\n`;
  text += `Content-Length: ${body.length}\r\n\r\n`;
  const out = Buffer.allocUnsafe(Buffer.byteLength(text) + body.length);
  const at = out.write(text);
  body.copy(out, at);
  return out;
}

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const session = req.headers['mcp-session-id'];
    const pod = pins.pick(typeof session === 'string' ? session : undefined);
    const upstream = upstreams[pod]!;
    upstream.send(requestBytes(req, Buffer.concat(chunks), upstream.host), req.method!, new ResponseRelay(res, pod));
  });
});
listenAndSay(server, 'lean-upstream floor study (node:http server, raw upstream; not a proxy)', pods[0]!.pathname);
