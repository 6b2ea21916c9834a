// `node proxy-core/bench/floor/lean.ts <pod URL>…` — a FLOOR STUDY, NOT A PROXY: how little CPU
// a sticky pass-through written in Node spends per request when it skips Node's HTTP machinery
// on both sides. A bare node:net server reads each request (raw-server.ts); its bytes go to the
// pinned pod on a raw keep-alive socket with two edits (the pod's Host; hop-by-hop headers
// dropped); the pod's answer goes back as the bytes it came in (raw-upstream.ts), its framing
// tracked only to know where it ends. Pinned by Mcp-Session-Id as bare-proxy.ts is; nothing of
// pinlab-proxy's contract (recovery, limits, events, a real HTTP parser) holds here.
import { methodOf, type Head } from './http1.ts';
import { listenAndSay, podsFromArgs } from './listen.ts';
import { Pins } from './pins.ts';
import { createRawServer, type RawClient, type RequestHandler } from './raw-server.ts';
import { PodConnections, type AnswerSink } from './raw-upstream.ts';

const pods = podsFromArgs('lean.ts');
const upstreams = pods.map((url) => new PodConnections(url, false));
const pins = new Pins(pods.length);
/** Request headers the pod does not get: this hop's, and the client's Host (the pod's is sent). */
const NOT_FORWARDED: ReadonlySet<string> = new Set(['host', 'connection', 'keep-alive', 'proxy-connection']);

/** One client connection's requests, each relayed to its pod and its answer back. */
class Relay implements RequestHandler, AnswerSink {
  private pod = 0;
  /** The answer ends when the pod closes: so must the client's connection. */
  private unframed = false;

  private readonly client: RawClient;

  constructor(client: RawClient) {
    this.client = client;
  }

  request(head: Head, bytes: Buffer): void {
    this.pod = pins.pick(head.sessionId);
    const upstream = upstreams[this.pod]!;
    upstream.send(forwarded(head, bytes, upstream.host), methodOf(head), this);
  }

  head(head: Head): void {
    pins.pin(head.sessionId, this.pod);
    this.unframed = !head.chunked && head.contentLength < 0;
  }

  bytes(chunk: Buffer): void {
    this.client.write(chunk);
  }

  end(): void {
    if (this.unframed) this.client.closeAfterAnswer();
    this.client.done();
  }

  fail(error: Error): void {
    this.client.fail(error);
  }
}

/** The request as the pod gets it: the client's head, edited, then the body — one buffer, one write. */
function forwarded(head: Head, bytes: Buffer, host: string): Buffer {
  let text = `${head.startLine}\r\nHost: ${host}\r\n`;
  for (const line of head.lines) {
    if (!NOT_FORWARDED.has(line.slice(0, line.indexOf(':')).toLowerCase())) text += `${line}\r\n`;
  }
  text += '\r\n';
  const out = Buffer.allocUnsafe(text.length + bytes.length - head.length);
  out.write(text, 0, 'latin1');
  bytes.copy(out, text.length, head.length);
  return out;
}

listenAndSay(createRawServer((client) => new Relay(client)), 'lean floor study (raw server, raw upstream; not a proxy)', pods[0]!.pathname);
