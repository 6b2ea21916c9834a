import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { Readable, pipeline } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { call, connectClient, rawCall, rawSession } from '../test/client.ts';
import { until } from '../test/lab.ts';
import { startPods } from '../test/pods.ts';
import { startReplica } from '../test/replicas.ts';
import { Drain, type DrainOutcome } from './drain.ts';
import { leanFront, type LeanFrontStats } from './lean-front.ts';
import { leanFrontStats } from './server.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

interface Served {
  server: Server;
  port: number;
  /** Null for the node:http twin. */
  stats: LeanFrontStats | null;
}

async function serve(listener: RequestListener, lean: boolean, options: { keepAliveTimeout?: number; headersTimeout?: number; requestTimeout?: number } = {}): Promise<Served> {
  const server = createServer({ keepAliveTimeout: 65_000, ...options }, listener);
  const stats = lean ? leanFront(server, { maxBodyBytes: 64 * 1024 }) : null;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  }));
  return { server, port: (server.address() as AddressInfo).port, stats };
}

/** The same listener behind the lean front and behind node:http alone. */
async function twins(listener: RequestListener): Promise<{ lean: Served; node: Served }> {
  return { lean: await serve(listener, true), node: await serve(listener, false) };
}

/** Reads a request's body whole, as the proxy does (on 'data' / 'end'). */
function bodyOf(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', () => resolve(Buffer.concat(chunks).toString('latin1'))).once('error', reject);
  });
}

/** A raw client connection: what it has received, and when it closed. */
class RawClient {
  readonly socket: Socket;
  received = '';
  closed = false;
  private readonly ready: Promise<void>;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.ready = new Promise((resolve) => this.socket.once('connect', () => resolve()));
    this.socket.setEncoding('latin1');
    this.socket.on('data', (text: string) => (this.received += text));
    this.socket.on('error', () => {});
    this.socket.on('close', () => (this.closed = true));
    cleanups.push(async () => this.socket.destroy());
  }

  async send(text: string): Promise<void> {
    await this.ready;
    await new Promise<void>((resolve) => this.socket.write(text, 'latin1', () => resolve()));
  }

  /** Waits for `count` complete answers in all received so far; returns them, `Date` values blanked. */
  async answers(count: number): Promise<string[]> {
    await until(`${count} answers`, () => splitAnswers(this.received, this.closed).length >= count);
    return splitAnswers(this.received, this.closed).map((answer) => answer.replace(/^Date: .*$/m, 'Date: -'));
  }

  async closedByServer(): Promise<void> {
    await until('the server closed the connection', () => this.closed);
  }
}

/** Splits a byte stream of HTTP/1.1 answers (Content-Length, chunked, or till close) into whole answers. */
function splitAnswers(text: string, closed: boolean): string[] {
  const answers: string[] = [];
  let at = 0;
  for (;;) {
    const headEnd = text.indexOf('\r\n\r\n', at);
    if (headEnd === -1) return answers;
    const head = text.slice(at, headEnd + 4);
    const status = Number(head.slice(9, 12));
    let end: number;
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (status === 204 || status === 304 || status < 200) end = headEnd + 4;
    else if (length) end = headEnd + 4 + Number(length[1]);
    else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      let pos = headEnd + 4;
      for (;;) {
        const lineEnd = text.indexOf('\r\n', pos);
        if (lineEnd === -1) return answers;
        const size = parseInt(text.slice(pos, lineEnd), 16);
        pos = lineEnd + 2 + size + 2;
        if (size === 0) break;
      }
      end = pos;
    } else if (closed) end = text.length;
    else return answers;
    if (end > text.length) return answers;
    answers.push(text.slice(at, end));
    at = end;
  }
}

/**
 * A lean server answering at once, except requests marked `X-Hold` (held for the test to answer);
 * `admit` sees every request first. With one idle connection on it and one whose answer is held.
 */
async function idleAndBusy(admit?: (req: IncomingMessage, res: ServerResponse) => void) {
  const held: ServerResponse[] = [];
  const served = await serve((req, res) => {
    admit?.(req, res);
    void bodyOf(req).then(() => {
      if (req.headers['x-hold']) held.push(res);
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  }, true);
  const idle = new RawClient(served.port);
  await idle.send(post('{}'));
  await idle.answers(1);
  const busy = new RawClient(served.port);
  await busy.send(post('{}', 'X-Hold: 1\r\n'));
  await until('the held request', () => held.length === 1);
  return { ...served, held, idle, busy };
}

const post = (body: string, extra = '') => `POST /mcp HTTP/1.1\r\nHost: proxy\r\nContent-Length: ${Buffer.byteLength(body, 'latin1')}\r\nMcp-Session-Id: s1\r\n${extra}\r\n${body}`;

/** Answers every request with what it read of it, in several of the ways the proxy answers. */
const echo: RequestListener = (req, res) => {
  void bodyOf(req).then((body) => {
    const said = JSON.stringify({ method: req.method, url: req.url, version: req.httpVersion, headers: req.headers, raw: req.rawHeaders, body, complete: req.complete });
    const how = req.headers['x-answer'];
    if (how === 'implicit') {
      res.setHeader('content-type', 'application/json');
      res.end(said); // node sends a Content-Length
    } else if (how === 'flat') res.writeHead(200, ['content-type', 'application/json', 'content-length', String(Buffer.byteLength(said)), 'x-two', 'a', 'x-two', 'b']).end(said);
    else if (how === 'empty') res.writeHead(204).end();
    else if (how === 'writes') {
      res.writeHead(201, 'Made', { 'content-type': 'text/plain' });
      res.write('one,');
      res.write(Buffer.from('two,'));
      res.end('three');
    } else if (how === 'nothing') res.writeHead(202, { 'content-type': 'application/json' }).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end(said); // node frames it chunked
  });
};

describe('the lean front', () => {
  it('serves keep-alive follow-up POSTs itself, on one connection, with the request and the answer bytes node:http would have', async () => {
    const { lean, node } = await twins(echo);
    const requests = [
      post('{"jsonrpc":"2.0","id":1,"method":"tools/list"}'),
      post('{"id":2}', 'X-Answer: implicit\r\nX-Dup: 1\r\nx-dup: 2\r\nCookie: a=1\r\nCookie: b=2\r\nSet-Cookie: c\r\nSet-Cookie: d\r\nUser-Agent: first\r\nUser-Agent: second\r\n'),
      post('', 'X-Answer: flat\r\nX-Spaces: \t padded value \t\r\n'),
      post('x', 'X-Answer: empty\r\n'),
      post('{"é":"ü"}', 'X-Answer: writes\r\n'),
      post('{}', 'X-Answer: nothing\r\nConnection: keep-alive\r\n'),
    ];
    const answers: string[][] = [];
    for (const served of [lean, node]) {
      const client = new RawClient(served.port);
      for (const [i, request] of requests.entries()) {
        await client.send(request);
        await client.answers(i + 1);
      }
      answers.push(await client.answers(requests.length));
    }
    expect(lean.stats!.lean).toBe(requests.length);
    expect(lean.stats!.handedOver).toBe(0);
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]![1]).toContain('"x-dup":"1, 2"');
    expect(answers[0]![1]).toContain('"cookie":"a=1; b=2"');
    expect(answers[0]![1]).toContain('"set-cookie":["c","d"]');
    expect(answers[0]![1]).toContain('"user-agent":"first"');
    expect(answers[0]![2]).toContain('"x-spaces":"padded value"');
  });

  it.each([
    ['a GET', 'GET /healthz HTTP/1.1\r\nHost: proxy\r\n\r\n'],
    ['a chunked POST', 'POST /mcp HTTP/1.1\r\nHost: proxy\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'],
    ['an Expect: 100-continue POST', 'POST /mcp HTTP/1.1\r\nHost: proxy\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nhi'],
    ['an HTTP/1.0 POST', 'POST /mcp HTTP/1.0\r\nHost: proxy\r\nContent-Length: 2\r\n\r\nhi'],
    ['a POST without Host', 'POST /mcp HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi'],
    ['a POST with two lengths', 'POST /mcp HTTP/1.1\r\nHost: proxy\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi'],
    ['a POST with Content-Length and Transfer-Encoding', 'POST /mcp HTTP/1.1\r\nHost: proxy\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['an obs-fold', 'POST /mcp HTTP/1.1\r\nHost: proxy\r\nX-A: one\r\n two\r\nContent-Length: 2\r\n\r\nhi'],
    ['bare LF line ends', 'POST /mcp HTTP/1.1\nHost: proxy\nContent-Length: 2\n\nhi'],
    ['a space before the colon', 'POST /mcp HTTP/1.1\r\nHost: proxy\r\nContent-Length : 2\r\n\r\nhi'],
    ['a control character in a value', 'POST /mcp HTTP/1.1\r\nHost: proxy\r\nX-A: a\x01b\r\nContent-Length: 2\r\n\r\nhi'],
    ['a Content-Length that is not a number', 'POST /mcp HTTP/1.1\r\nHost: proxy\r\nContent-Length: 0x2\r\n\r\nhi'],
    ['a body over the lean limit', `POST /mcp HTTP/1.1\r\nHost: proxy\r\nContent-Length: ${70_000}\r\n\r\n${'a'.repeat(70_000)}`],
    ['garbage', 'HELLO THERE\r\n\r\n'],
  ])('hands %s to node:http, which answers it as it would have — also after lean requests on the same connection', async (_what, request) => {
    const { lean, node } = await twins(echo);
    const answers: string[][] = [];
    for (const served of [lean, node]) {
      const alone = new RawClient(served.port);
      await alone.send(request);
      const first = await alone.answers(1);
      const after = new RawClient(served.port);
      await after.send(post('{"id":1}'));
      await after.answers(1);
      await after.send(post('{"id":2}'));
      await after.answers(2);
      await after.send(request);
      answers.push([...first, ...await after.answers(3)]);
    }
    expect(lean.stats).toEqual({ lean: 2, handedOver: 2 });
    expect(answers[0]).toEqual(answers[1]);
  });

  it('answers 400 itself (node:http) to a request with both Content-Length and Transfer-Encoding', async () => {
    const { port, stats } = await serve(echo, true);
    const client = new RawClient(port);
    await client.send(post('{"id":1}'));
    await client.answers(1);
    await client.send('POST /mcp HTTP/1.1\r\nHost: proxy\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    const answers = await client.answers(2);
    expect(answers[1]).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    await client.closedByServer();
    expect(stats).toEqual({ lean: 1, handedOver: 1 });
  });

  it('answers pipelined requests in order, lean and handed-over ones mixed', async () => {
    const { lean, node } = await twins(echo);
    const burst = post('{"id":1}') + post('{"id":2}', 'X-Answer: implicit\r\n') + 'GET /x HTTP/1.1\r\nHost: proxy\r\n\r\n' + post('{"id":3}');
    const answers: string[][] = [];
    for (const served of [lean, node]) {
      const client = new RawClient(served.port);
      await client.send(burst);
      answers.push(await client.answers(4));
    }
    expect(lean.stats).toEqual({ lean: 2, handedOver: 1 });
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]!.map((answer) => /"body":"([^"]*)"|"url":"\/x"/.exec(answer.replaceAll('\\"', ''))?.[0])).toEqual(['"body":"{id:1}"', '"body":"{id:2}"', '"url":"/x"', '"body":"{id:3}"']);
  });

  it('reads a request split at every byte boundary', async () => {
    const { port, stats } = await serve(echo, true);
    const request = post('{"jsonrpc":"2.0","id":7,"method":"ping"}');
    for (let cut = 1; cut < request.length; cut++) {
      const client = new RawClient(port);
      await client.send(request.slice(0, cut));
      await new Promise((resolve) => setImmediate(resolve));
      await client.send(request.slice(cut));
      const [answer] = await client.answers(1);
      expect(answer).toContain('"body":"{\\"jsonrpc\\":\\"2.0\\",\\"id\\":7,\\"method\\":\\"ping\\"}"');
      client.socket.destroy();
    }
    expect(stats).toEqual({ lean: request.length - 1, handedOver: 0 });
  });

  it('reads a body that arrives in many pieces, and a pipelined flood larger than it holds while an answer is under way', async () => {
    const held: ServerResponse[] = [];
    const bodies: string[] = [];
    const { port, stats } = await serve((req, res) => {
      void bodyOf(req).then((body) => {
        bodies.push(body);
        if (req.headers['x-hold']) held.push(res);
        else res.end(String(body.length));
      });
    }, true);
    const client = new RawClient(port);
    const big = 'b'.repeat(60_000);
    const request = post(big);
    for (let at = 0; at < request.length; at += 1000) await client.send(request.slice(at, at + 1000));
    expect(await client.answers(1)).toEqual([expect.stringMatching(/\r\n\r\n60000$/)]);
    expect(bodies).toEqual([big]);
    await client.send(post('first', 'X-Hold: 1\r\n'));
    await until('the held request', () => held.length === 1);
    const flood = Array.from({ length: 100 }, (_, i) => post(`${i}:${'f'.repeat(1000)}`)).join('');
    await client.send(flood);
    held[0]!.end('held');
    const answers = await client.answers(102);
    expect(answers[1]).toMatch(/held$/);
    expect(answers.slice(2).every((answer) => /\r\n\r\n100\d$/.test(answer))).toBe(true);
    expect(bodies.slice(2).map((body) => body.split(':')[0])).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
    expect(stats).toEqual({ lean: 102, handedOver: 0 });
  });

  it('streams an answer without a length chunked: the client reads each event as it is written', async () => {
    let stream: ServerResponse | null = null;
    const { port, stats } = await serve((req, res) => {
      void bodyOf(req).then(() => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('event: message\ndata: one\n\n');
        stream = res;
      });
    }, true);
    const client = new RawClient(port);
    await client.send(post('{"id":1}'));
    await until('the first event', () => client.received.includes('data: one'));
    expect(client.received).toMatch(/Transfer-Encoding: chunked\r\n\r\n1a\r\nevent: message\ndata: one\n\n\r\n$/);
    expect(client.received).not.toContain('data: two');
    stream!.write('data: two\n\n');
    await until('the second event', () => client.received.includes('data: two'));
    stream!.end();
    const [answer] = await client.answers(1);
    expect(answer).toMatch(/data: two\n\n\r\n0\r\n\r\n$/);
    expect(stats!.lean).toBe(1);
  });

  it('closes the connection after an answer that set `connection: close`', async () => {
    const { port } = await serve((req, res) => {
      res.setHeader('connection', 'close');
      void bodyOf(req).then(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('bye'));
    }, true);
    const client = new RawClient(port);
    await client.send(post('{"id":1}') + post('{"id":2}'));
    await client.closedByServer();
    const answers = await client.answers(1);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatch(/\r\nconnection: close\r\n/);
    expect(answers[0]).toMatch(/\r\n3\r\nbye\r\n0\r\n\r\n$/);
  });

  it('closes the connection after answering a request that said `Connection: close`', async () => {
    const { port } = await serve(echo, true);
    const client = new RawClient(port);
    await client.send(post('{"id":1}', 'Connection: close\r\n'));
    await client.closedByServer();
    const [answer] = await client.answers(1);
    expect(answer).toMatch(/\r\nConnection: close\r\n/);
  });

  it('emits close on the response when the client goes away mid-answer, and destroys it', async () => {
    let response: ServerResponse | null = null;
    let closed = false;
    const { port } = await serve((req, res) => {
      void bodyOf(req).then(() => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: one\n\n');
        res.on('close', () => (closed = true));
        response = res;
      });
    }, true);
    const client = new RawClient(port);
    await client.send(post('{"id":1}'));
    await until('the first event', () => client.received.includes('data: one'));
    expect(closed).toBe(false);
    client.socket.destroy();
    await until('close on the response', () => closed);
    expect(response!.destroyed).toBe(true);
    expect(response!.writableEnded).toBe(false);
  });

  it('aborts a request nobody read when its client goes away mid-answer, without an unhandled error', async () => {
    let request: IncomingMessage | null = null;
    let aborted = false;
    let closed = false;
    const { port } = await serve((req, res) => {
      // The body is left unread (as the proxy leaves one it refuses by its length); the answer is under way.
      req.on('aborted', () => (aborted = true));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      res.on('close', () => (closed = true));
      request = req;
    }, true);
    const client = new RawClient(port);
    await client.send(post('{"id":1}'));
    await until('the first event', () => client.received.includes('data: one'));
    client.socket.destroy();
    await until('close on the response', () => closed);
    await until('the request destroyed', () => request!.destroyed);
    expect(aborted).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50)); // an 'error' nobody listens to would surface as an unhandled error now
  });

  it('emits finish, then close, on a response that ended', async () => {
    const events: string[] = [];
    const { port } = await serve((req, res) => {
      res.on('finish', () => events.push(`finish ${res.writableFinished}`)).on('close', () => events.push(`close ${res.destroyed}`));
      void bodyOf(req).then(() => res.end('done', () => events.push('end callback')));
    }, true);
    const client = new RawClient(port);
    await client.send(post('{}'));
    const [answer] = await client.answers(1);
    expect(answer).toMatch(/\r\nContent-Length: 4\r\n/);
    await until('close', () => events.length === 3);
    expect(events).toEqual(['finish true', 'end callback', 'close true']);
  });

  it('lets a stream be piped into a response (as an initialize answer is), with the bytes node:http would send', async () => {
    const outcomes: (Error | null)[] = [];
    const { lean, node } = await twins((req, res) => {
      void bodyOf(req).then(() => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('head,');
        pipeline(Readable.from(['a', 'b', 'c']), res, (error) => outcomes.push(error ?? null));
      });
    });
    const answers: string[] = [];
    for (const served of [lean, node]) {
      const client = new RawClient(served.port);
      await client.send(post('{}'));
      answers.push(...await client.answers(1));
    }
    expect(answers[0]).toMatch(/head,.*a.*b.*c\r\n0\r\n\r\n$/s);
    expect(answers[0]).toBe(answers[1]);
    await until('both pipelines ended', () => outcomes.length === 2);
    expect(outcomes).toEqual([null, null]);
    expect(lean.stats!.lean).toBe(1);
  });

  it('closeIdleConnections closes idle lean connections and leaves busy ones; closeAllConnections closes those too', async () => {
    const { server, stats, idle, busy } = await idleAndBusy();
    server.closeIdleConnections();
    await idle.closedByServer();
    expect(busy.closed).toBe(false);
    server.closeAllConnections();
    await busy.closedByServer();
    expect(stats!.lean).toBe(2);
  });

  it('close() stops listening and closes idle lean connections; its callback comes once the busy ones finish', async () => {
    const { server, held, idle, busy } = await idleAndBusy();
    let closed = false;
    server.close(() => (closed = true));
    await idle.closedByServer();
    expect(closed).toBe(false);
    held[0]!.setHeader('connection', 'close');
    held[0]!.end('late');
    await busy.closedByServer();
    await until('the server closed', () => closed);
  });

  it('closes an idle keep-alive connection after the keep-alive timeout, and answers 408 to a head that never ends', async () => {
    const { port } = await serve(echo, true, { keepAliveTimeout: 100, headersTimeout: 200, requestTimeout: 300 });
    const idle = new RawClient(port);
    await idle.send(post('{}'));
    await idle.answers(1);
    await idle.closedByServer();
    const slow = new RawClient(port);
    await slow.send('POST /mcp HTTP/1.1\r\nHost: proxy\r\n');
    await slow.closedByServer();
    expect(slow.received).toBe('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
    const slowBody = new RawClient(port);
    await slowBody.send('POST /mcp HTTP/1.1\r\nHost: proxy\r\nContent-Length: 10\r\n\r\nabc');
    await slowBody.closedByServer();
    expect(slowBody.received).toBe('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
  });

  it('drains over lean connections: answers under way end their connections, idle ones close, the drain completes', async () => {
    const drain = new Drain();
    const { server, port, stats, held, idle, busy } = await idleAndBusy((req, res) => drain.admit(req, res));
    const headed = new RawClient(port);
    await headed.send(post('{}', 'X-Hold: 1\r\n'));
    await until('the second held request', () => held.length === 2);
    held[1]!.writeHead(200, { 'content-type': 'text/plain' });
    held[1]!.write('part,');
    let outcome: DrainOutcome | null = null;
    void drain.run(server, { delayMs: 50, timeoutMs: 10_000 }).then((result) => (outcome = result));
    // While the listener still takes connections, a new request on an open one is told to close it.
    await idle.send(post('{}'));
    const [, last] = await idle.answers(2);
    expect(last).toMatch(/\r\nconnection: close\r\n/);
    await idle.closedByServer();
    held[0]!.end('late');
    const [busyAnswer] = await busy.answers(1);
    expect(busyAnswer).toMatch(/\r\nconnection: close\r\n/);
    await busy.closedByServer();
    held[1]!.end('rest');
    const [headedAnswer] = await headed.answers(1);
    expect(headedAnswer).toMatch(/part,\r\n4\r\nrest\r\n0\r\n\r\n$/);
    await headed.closedByServer();
    await until('the drain', () => outcome !== null);
    expect(outcome).toEqual({ kind: 'drained' });
    expect(stats!.lean).toBe(4);
  });

  it('serves a real session\'s follow-ups through the proxy (--http-front lean); the SDK\'s GET stream and DELETE go to node:http', async () => {
    const pods = await startPods(2);
    cleanups.push(() => Promise.all(pods.map((pod) => pod.kill())));
    const replica = await startReplica({ backends: pods.map((pod) => pod.url), store: 'memory', httpFront: 'lean' });
    cleanups.push(() => replica.close());
    const stats = leanFrontStats(replica.server)!;
    const { client } = await connectClient(replica.url);
    cleanups.push(() => client.close());
    const first = await call<{ pod: string; session: string }>(client, 'whoami');
    for (let i = 0; i < 5; i++) expect(await call<{ pod: string }>(client, 'whoami')).toEqual(first);
    // initialize, notifications/initialized and 6 calls are plain POSTs; the GET stream is handed over.
    expect(stats.lean).toBeGreaterThanOrEqual(8);
    expect(stats.handedOver).toBeGreaterThanOrEqual(1);
    const session = await rawSession(replica.url);
    const before = stats.lean;
    const answer = await rawCall(replica.url, session, 'whoami', 9);
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('"id":9');
    expect(stats.lean).toBe(before + 1);
    expect(leanFrontStats(replica.server)).toBe(stats);
  });
});
