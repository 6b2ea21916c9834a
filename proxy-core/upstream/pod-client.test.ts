import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerOptions, type ServerResponse } from 'node:http';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { Client, type Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { until } from '../test/lab.ts';
import { MAX_HEAD, PodClient, type PodRequest } from './pod-client.ts';
import { transportCause } from './upstream.ts';

const cleanups: (() => unknown)[] = [];
/** When each of the pods' sockets closed (its 'close' event: the descriptor is closed, the FIN or RST sent). */
const closes = new WeakMap<Socket, Promise<void>>();

function track(sockets: Socket[], socket: Socket): void {
  sockets.push(socket);
  closes.set(socket, new Promise((resolve) => socket.once('close', () => resolve())));
}
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

interface Hooks {
  onHead?: (controller: Dispatcher.DispatchController) => void;
  onData?: (controller: Dispatcher.DispatchController, chunk: Buffer) => void;
}

/** A dispatch handler that records what it is told, in order (it works for undici's clients too). */
class Recorder implements Dispatcher.DispatchHandler {
  readonly events: string[] = [];
  readonly chunks: Buffer[] = [];
  requestStarted = false;
  status = 0;
  headers: IncomingHttpHeaders = {};
  statusMessage: string | undefined = '';
  error: (Error & { code?: string }) | null = null;
  readonly done: Promise<void>;
  private readonly hooks: Hooks;
  private settle!: () => void;

  constructor(hooks: Hooks = {}) {
    this.hooks = hooks;
    this.done = new Promise((resolve) => (this.settle = resolve));
  }

  onRequestStart(): void {
    this.requestStarted = true;
    this.events.push('start');
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    this.events.push(`head ${status}`);
    Object.assign(this, { status, headers, statusMessage });
    this.hooks.onHead?.(controller);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.events.push('data');
    this.chunks.push(chunk);
    this.hooks.onData?.(controller, chunk);
  }

  onResponseEnd(): void {
    this.events.push('end');
    this.settle();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.events.push('error');
    this.error = error;
    this.settle();
  }

  get body(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }

  /** The events without the data ones (how many chunks a body comes in is the network's business). */
  get outline(): string[] {
    return this.events.filter((event, i) => event !== 'data' || this.events[i - 1] !== 'data');
  }
}

/** A node:http pod; `sockets` are its connections, in the order they came. */
async function httpPod(handle: (req: IncomingMessage, res: ServerResponse) => void, options: ServerOptions = {}) {
  const server = createServer(options, handle);
  const sockets: Socket[] = [];
  server.on('connection', (socket) => track(sockets, socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  }));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets };
}

/** A pod on bare sockets: `answer` is told each request (head and body, as sent) and writes what it likes. */
async function rawPod(answer: (socket: Socket, request: string) => void) {
  const sockets: Socket[] = [];
  const server: NetServer = createNetServer((socket) => {
    track(sockets, socket);
    socket.setNoDelay(true);
    let held = '';
    socket.on('data', (chunk) => {
      held += chunk.toString('latin1');
      for (let end = held.indexOf('\r\n\r\n'); end >= 0; end = held.indexOf('\r\n\r\n')) {
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(held.slice(0, end))?.[1] ?? 0);
        if (held.length < end + 4 + length) return;
        const request = held.slice(0, end + 4 + length);
        held = held.slice(request.length);
        answer(socket, request);
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(resolve);
  }));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets };
}

function podClient(options: { headersTimeoutMs?: number } = {}): PodClient {
  const client = new PodClient({ connectTimeoutMs: 2000, ...options });
  cleanups.push(() => client.destroy());
  return client;
}

function send(client: { dispatch(request: PodRequest, handler: Dispatcher.DispatchHandler): unknown }, origin: string, request: Partial<PodRequest> = {}, hooks?: Hooks): Recorder {
  const recorder = new Recorder(hooks);
  client.dispatch({ origin, path: '/mcp', method: 'POST', headers: [], body: null, ...request }, recorder);
  return recorder;
}

/** The same request through undici (a Client of its own), for what undici does. */
async function viaUndici(origin: string, request: Partial<PodRequest> = {}): Promise<Recorder> {
  const client = new Client(origin);
  cleanups.push(() => client.destroy());
  const recorder = send({ dispatch: (options, handler) => client.dispatch(options as Dispatcher.DispatchOptions, handler) }, origin, request);
  await recorder.done;
  return recorder;
}

function closed(socket: Socket): Promise<void> {
  return closes.get(socket)!;
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

describe('the pod client', () => {
  it('keeps one connection alive for requests in sequence, and writes each request as undici does', async () => {
    const seen: string[] = [];
    const pod = await rawPod((socket, request) => {
      seen.push(request);
      socket.write(OK);
    });
    const client = podClient();
    const requests: Partial<PodRequest>[] = [
      { method: 'POST', path: '/mcp?tenant=a', headers: ['Content-Type', 'application/json', 'mcp-session-id', 's1'], body: Buffer.from('{"a":1}') },
      { method: 'POST', body: null },
      { method: 'GET', headers: ['Accept', 'text/event-stream'], body: null },
      { method: 'DELETE', body: Buffer.alloc(0) },
    ];
    for (const request of requests) {
      const recorder = send(client, pod.origin, request);
      await recorder.done;
      expect(recorder.events).toEqual(['start', 'head 200', 'data', 'end']);
    }
    expect(pod.sockets).toHaveLength(1);
    const ours = seen.splice(0);
    for (const request of requests) await viaUndici(pod.origin, request);
    expect(ours).toEqual(seen);
    expect(ours[0]).toBe(`POST /mcp?tenant=a HTTP/1.1\r\nhost: ${pod.origin.slice(7)}\r\nconnection: keep-alive\r\nContent-Type: application/json\r\nmcp-session-id: s1\r\ncontent-length: 7\r\n\r\n{"a":1}`);
    expect(ours[1]).toContain('\r\ncontent-length: 0\r\n');
  });

  it('sends a body larger than it copies behind the head whole', async () => {
    const bodies: string[] = [];
    const pod = await rawPod((socket, request) => {
      bodies.push(request.slice(request.indexOf('\r\n\r\n') + 4));
      socket.write(OK);
    });
    const body = Buffer.from(Array.from({ length: 300_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join(''));
    const recorder = send(podClient(), pod.origin, { body });
    await recorder.done;
    expect(recorder.body).toBe('ok');
    expect(bodies).toEqual([body.toString('latin1')]);
  });

  it('gives requests under way at once connections of their own, then reuses them', async () => {
    const held: ServerResponse[] = [];
    let together = 3;
    const pod = await httpPod((_req, res) => {
      held.push(res);
      if (held.length < together) return;
      for (const answer of held.splice(0)) answer.end('ok');
      together = 1; // the next request is answered alone
    });
    const client = podClient();
    const recorders = [1, 2, 3].map(() => send(client, pod.origin));
    await Promise.all(recorders.map((r) => r.done));
    expect(recorders.map((r) => r.body)).toEqual(['ok', 'ok', 'ok']);
    expect(pod.sockets).toHaveLength(3);
    const again = send(client, pod.origin);
    await again.done;
    expect(again.body).toBe('ok');
    expect(pod.sockets).toHaveLength(3);
  });

  it('reads an answer whatever pieces it comes in: 1xx skipped, chunked framing taken off, trailers ignored', async () => {
    const payload = 'hello, pod' + 'x'.repeat(20);
    const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n'
      + 'a;ext=1\r\nhello, pod\r\n14\r\n' + 'x'.repeat(20) + '\r\n0\r\nX-Trailer: t\r\n\r\n';
    const answers = [
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n' + chunked,
      `HTTP/1.1 200 OK\r\nContent-Length: ${payload.length}\r\n\r\n${payload}`,
    ];
    let split = 0;
    let answer = '';
    const pod = await rawPod((socket) => {
      // The answer in two writes at `split` (0: a byte at a time), each its own TCP segment (no Nagle, a pause between).
      const pieces = split === 0 ? [...answer] : [answer.slice(0, split), answer.slice(split)];
      void (async () => {
        for (const piece of pieces) {
          socket.write(piece, 'latin1');
          await sleep(1);
        }
      })();
    });
    const client = podClient();
    for (answer of answers) {
      for (split = 0; split < answer.length; split++) {
        const recorder = send(client, pod.origin);
        await recorder.done;
        expect({ split, outline: recorder.outline, body: recorder.body }).toEqual({ split, outline: ['start', 'head 200', 'data', 'end'], body: payload });
      }
    }
    // Every answer ended exactly where it should: all went over one connection.
    expect(pod.sockets).toHaveLength(1);
  });

  it('reads an answer with neither length nor chunks until the pod closes, and dials anew after it', async () => {
    const pod = await rawPod((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil');
      setTimeout(() => socket.end(' the close'), 5);
    });
    const client = podClient();
    for (const _ of [1, 2]) {
      const recorder = send(client, pod.origin);
      await recorder.done;
      expect({ outline: recorder.outline, body: recorder.body }).toEqual({ outline: ['start', 'head 200', 'data', 'end'], body: 'until the close' });
    }
    expect(pod.sockets).toHaveLength(2);
  });

  it('reads no body after HEAD, 204 and 304; the connection is kept, but not after a HEAD (as undici)', async () => {
    const pod = await httpPod((req, res) => {
      const status = Number(req.url!.slice(1));
      if (status === 200) res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' }).end('hello');
      else res.writeHead(status).end();
    });
    const client = podClient();
    for (const [method, path] of [['POST', '/204'], ['GET', '/304'], ['HEAD', '/200'], ['GET', '/200']] as const) {
      const recorder = send(client, pod.origin, { method, path });
      await recorder.done;
      expect(recorder.events).toEqual(method === 'GET' && path === '/200' ? ['start', 'head 200', 'data', 'end'] : ['start', `head ${path.slice(1)}`, 'end']);
    }
    expect(pod.sockets).toHaveLength(2);
  });

  it('skips 100 Continue and 103 Early Hints from node:http', async () => {
    const pod = await httpPod((_req, res) => {
      res.writeContinue();
      res.writeEarlyHints({ link: '</style.css>; rel=preload' });
      res.end('ok');
    });
    const recorder = send(podClient(), pod.origin);
    await recorder.done;
    expect(recorder.events).toEqual(['start', 'head 200', 'data', 'end']);
    expect(recorder.headers.link).toBeUndefined();
  });

  it('gives the head as undici does: names lower-cased, repeated headers as arrays, leading blanks trimmed, the status message', async () => {
    const pod = await rawPod((socket) => socket.write(
      'HTTP/1.1 201 Made It\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nX-Spaced: \t padded value \t\r\nConstructor: c\r\nX-Empty:\r\n'
      + 'X-Latin: caf\xe9\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\nok', 'latin1'));
    const ours = send(podClient(), pod.origin);
    await ours.done;
    const theirs = await viaUndici(pod.origin);
    expect(ours.headers).toEqual({
      'set-cookie': ['a=1', 'b=2'], 'x-spaced': 'padded value \t', constructor: 'c', 'x-empty': '', 'x-latin': 'caf\xe9', 'keep-alive': 'timeout=5', 'content-length': '2',
    });
    expect([ours.status, ours.statusMessage, ours.headers]).toEqual([theirs.status, theirs.statusMessage, theirs.headers]);
    expect(ours.statusMessage).toBe('Made It');
  });

  it('fails a dial the pod refuses before the request started, its code kept', async () => {
    const pod = await rawPod(() => {});
    const port = Number(new URL(pod.origin).port);
    await new Promise<void>((resolve) => cleanups.pop()!() instanceof Promise ? resolve() : resolve()); // the port is free again
    await sleep(10);
    const recorder = send(podClient(), `http://127.0.0.1:${port}`);
    await recorder.done;
    expect({ events: recorder.events, started: recorder.requestStarted, code: recorder.error?.code }).toEqual({ events: ['error'], started: false, code: 'ECONNREFUSED' });
  });

  it('fails a dial that gets no answer after the connect timeout, before the request started, as undici does', async () => {
    // A pod whose accept queue is full: a stopped process listening with a backlog of 1, sent two
    // connections. Linux then drops the next SYN (as for a vanished pod address): the dial hangs.
    const child = spawn(process.execPath, ['-e', "require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, function () { console.log(this.address().port) })"]);
    cleanups.push(() => {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    });
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    const port = Number(line.toString().trim());
    child.kill('SIGSTOP');
    const fillers: Socket[] = [];
    cleanups.push(() => fillers.forEach((socket) => socket.destroy()));
    // Fill the queue until a dial hangs (the queue holds backlog + 1 on Linux; a few more in case).
    let hung = false;
    for (let i = 0; i < 8 && !hung; i++) {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => {});
      fillers.push(socket);
      hung = !(await Promise.race([once(socket, 'connect').then(() => true), sleep(300).then(() => false)]));
    }
    expect(hung, 'a dial to the full accept queue hangs').toBe(true);
    const client = new PodClient({ connectTimeoutMs: 300 });
    cleanups.push(() => client.destroy());
    const recorder = send(client, `http://127.0.0.1:${port}`);
    await recorder.done;
    expect({ events: recorder.events, started: recorder.requestStarted, code: recorder.error?.code }).toEqual({ events: ['error'], started: false, code: 'UND_ERR_CONNECT_TIMEOUT' });
    // transportCause reads it as undici's: the proxy recovers at once, the pod never saw the request.
    expect(transportCause(recorder.error)).toBe('connect-timeout');
  });

  it('fails a request the pod read, then closed on, after it started: undici\'s "other side closed", or the reset', async () => {
    const pod = await rawPod((socket, request) => {
      if (request.startsWith('POST /reset')) socket.resetAndDestroy();
      else socket.end();
    });
    const client = podClient();
    const closedOn = send(client, pod.origin);
    await closedOn.done;
    const theirs = await viaUndici(pod.origin);
    expect({ events: closedOn.events, code: closedOn.error?.code, message: closedOn.error?.message })
      .toEqual({ events: ['start', 'error'], code: 'UND_ERR_SOCKET', message: 'other side closed' });
    expect([theirs.error?.code, theirs.error?.message]).toEqual(['UND_ERR_SOCKET', 'other side closed']);
    const reset = send(client, pod.origin, { path: '/reset' });
    await reset.done;
    expect({ events: reset.events, code: reset.error?.code }).toEqual({ events: ['start', 'error'], code: 'ECONNRESET' });
  });

  it('sends no request on a kept-alive connection the pod closed while idle: the next goes on a new one', async () => {
    const pod = await httpPod((_req, res) => res.end('ok'));
    const client = podClient();
    await send(client, pod.origin).done;
    pod.sockets[0]!.destroy();
    await closed(pod.sockets[0]!);
    const next = send(client, pod.origin);
    await next.done;
    expect({ events: next.events, body: next.body }).toEqual({ events: ['start', 'head 200', 'data', 'end'], body: 'ok' });
    expect(pod.sockets).toHaveLength(2);
  });

  it('retires an idle connection before the pod\'s Keep-Alive timeout, less undici\'s margin', async () => {
    // Keep-Alive: timeout=3 → kept 1 s; timeout=2 → not kept at all.
    const lasting = await httpPod((_req, res) => res.end('ok'), { keepAliveTimeout: 3000 });
    const brief = await httpPod((_req, res) => res.end('ok'), { keepAliveTimeout: 2000 });
    const client = podClient();
    await send(client, lasting.origin).done;
    await send(client, lasting.origin).done;
    expect(lasting.sockets).toHaveLength(1);
    await sleep(1100);
    await send(client, lasting.origin).done;
    expect(lasting.sockets).toHaveLength(2);
    await closed(lasting.sockets[0]!); // closed by the client, 2 s before the pod would have
    for (const _ of [1, 2]) await send(client, brief.origin).done;
    expect(brief.sockets).toHaveLength(2);
  });

  it('ends an exchange the handler aborts mid-body once, and closes its connection', async () => {
    const pod = await httpPod((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
    });
    const reason = new Error('client gone');
    const recorder = send(podClient(), pod.origin, {}, { onData: (controller) => controller.abort(reason) });
    await recorder.done;
    await closed(pod.sockets[0]!);
    await sleep(20);
    expect(recorder.events).toEqual(['start', 'head 200', 'data', 'error']);
    expect(recorder.error).toBe(reason);
  });

  it('holds the answer back while the handler is paused: a large body arrives whole and in order', async () => {
    const piece = Buffer.alloc(64 * 1024);
    for (let i = 0; i < piece.length; i++) piece[i] = i % 251;
    const pieces = 64; // 4 MiB
    const pod = await httpPod(async (_req, res) => {
      res.writeHead(200, { 'content-length': String(piece.length * pieces) });
      for (let i = 0; i < pieces; i++) {
        if (!res.write(piece)) await new Promise((resolve) => res.once('drain', resolve));
      }
      res.end();
    });
    let whilePaused = 0;
    let pauses = 0;
    const recorder = send(podClient(), pod.origin, { method: 'GET' }, {
      onData: (controller) => {
        if (controller.paused) whilePaused++;
        controller.pause();
        pauses++;
        setTimeout(() => controller.resume(), 1);
      },
    });
    await recorder.done;
    const body = Buffer.concat(recorder.chunks);
    expect({ whilePaused, length: body.length, end: recorder.events.at(-1) }).toEqual({ whilePaused: 0, length: piece.length * pieces, end: 'end' });
    expect(body.equals(Buffer.concat(Array.from({ length: pieces }, () => piece)))).toBe(true);
    expect(pauses).toBeGreaterThan(1);
  });

  it('fails a malformed answer with a clear error and closes the connection', async () => {
    const answers: Record<string, string> = {
      '/version': 'HTTX/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
      '/chunk': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      '/length': 'HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\nok',
      '/both': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
      '/fold': 'HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 2\r\n\r\nok',
      '/large': `HTTP/1.1 200 OK\r\nX-Large: ${'a'.repeat(MAX_HEAD)}\r\nContent-Length: 2\r\n\r\nok`,
      '/lf': 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok',
      '/control': 'HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 2\r\n\r\nok',
      '/name': 'HTTP/1.1 200 OK\r\nX(A): 1\r\nContent-Length: 2\r\n\r\nok',
      '/status': 'HTTP/1.1 099 Odd\r\nContent-Length: 2\r\n\r\nok',
    };
    const pod = await rawPod((socket, request) => socket.write(answers[request.split(' ')[1]!]!));
    const client = podClient();
    const codes: Record<string, string | undefined> = {};
    for (const path of Object.keys(answers)) {
      const recorder = send(client, pod.origin, { path });
      await recorder.done;
      expect(recorder.events.at(-1)).toBe('error');
      codes[path] = recorder.error?.code;
      await closed(pod.sockets.at(-1)!);
    }
    expect(codes).toEqual({
      '/version': 'HPE_INVALID_CONSTANT', '/chunk': 'HPE_INVALID_CHUNK_SIZE', '/length': 'HPE_INVALID_CONTENT_LENGTH',
      '/both': 'HPE_UNEXPECTED_CONTENT_LENGTH', '/fold': 'HPE_INVALID_HEADER_TOKEN', '/large': 'UND_ERR_HEADERS_OVERFLOW',
      '/lf': 'HPE_CR_EXPECTED', '/control': 'HPE_INVALID_HEADER_VALUE', '/name': 'HPE_INVALID_HEADER_TOKEN', '/status': 'HPE_INVALID_STATUS',
    });
    expect(pod.sockets).toHaveLength(Object.keys(answers).length);
  });

  it('closes a connection on bytes past a complete answer', async () => {
    const pod = await rawPod((socket) => socket.write(`${OK}HTTP/1.1 200 OK\r\n`));
    const recorder = send(podClient(), pod.origin);
    await recorder.done;
    expect(recorder.events).toEqual(['start', 'head 200', 'data', 'end']);
    await closed(pod.sockets[0]!);
  });

  it('closes an idle connection the pod sends bytes on, and sends the next request on a new one', async () => {
    const pod = await rawPod((socket) => {
      socket.write(OK);
      setTimeout(() => socket.write('HTTP/1.1 200 OK\r\n'), 10);
    });
    const client = podClient();
    await send(client, pod.origin).done;
    await closed(pod.sockets[0]!);
    const next = send(client, pod.origin);
    await next.done;
    expect(next.events).toEqual(['start', 'head 200', 'data', 'end']);
    expect(pod.sockets).toHaveLength(2);
  });

  it('fails an exchange whose handler throws, and closes its connection', async () => {
    const pod = await httpPod((_req, res) => res.end('ok'));
    const thrown = new Error('handler bug');
    const recorder = send(podClient(), pod.origin, {}, { onHead: () => { throw thrown; } });
    await recorder.done;
    expect(recorder.events).toEqual(['start', 'head 200', 'error']);
    expect(recorder.error).toBe(thrown);
    await closed(pod.sockets[0]!);
  });

  it('does not reuse a connection after an answer that says Connection: close, or an HTTP/1.0 one without keep-alive', async () => {
    const pod = await rawPod((socket, request) => socket.write(request.startsWith('POST /old')
      ? 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok'
      : 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok'));
    const client = podClient();
    for (const path of ['/mcp', '/mcp', '/old', '/old']) {
      const recorder = send(client, pod.origin, { path });
      await recorder.done;
      expect(recorder.body).toBe('ok');
    }
    expect(pod.sockets).toHaveLength(4);
  });

  it('fails a request whose answer\'s head does not come in time, as undici\'s headers timeout', async () => {
    const pod = await rawPod(() => {});
    const recorder = send(podClient({ headersTimeoutMs: 300 }), pod.origin);
    await recorder.done;
    expect({ events: recorder.events, code: recorder.error?.code }).toEqual({ events: ['start', 'error'], code: 'UND_ERR_HEADERS_TIMEOUT' });
    await closed(pod.sockets[0]!);
  });

  it('destroy() fails the exchanges under way and any dispatched later', async () => {
    let got = 0;
    const pod = await httpPod(() => void got++);
    const client = podClient();
    const waiting = send(client, pod.origin);
    await until('the pod has the request', () => got === 1);
    await client.destroy();
    await waiting.done;
    const later = send(client, pod.origin);
    await later.done;
    expect([waiting.events, waiting.error?.code, later.events, later.error?.code]).toEqual([['start', 'error'], 'UND_ERR_DESTROYED', ['error'], 'UND_ERR_DESTROYED']);
  });
});
