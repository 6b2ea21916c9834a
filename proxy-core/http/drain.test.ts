import { createServer, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../test/lab.ts';
import { Drain, type DrainOutcome } from './drain.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

/** An HTTP server admitting every request to `drain`; `handle` answers (and may keep the response for later). */
async function serve(drain: Drain, handle: (method: string, res: ServerResponse) => void) {
  const server = createServer((req, res) => {
    drain.admit(req, res);
    handle(req.method ?? 'GET', res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  }));
  const { port } = server.address() as AddressInfo;
  return { server, port, origin: `http://127.0.0.1:${port}` };
}

/** A server that holds every POST's response (for the test to answer) and answers anything else `ok` at once. */
async function serveHolding(drain: Drain) {
  const held: ServerResponse[] = [];
  const served = await serve(drain, (method, res) => {
    if (method === 'POST') held.push(res);
    else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  return { ...served, held };
}

describe('the drain of a replica\'s HTTP server', () => {
  it('ends an event stream after its current event, cleanly, once the listener closes', async () => {
    const drain = new Drain();
    let stream: ServerResponse | null = null;
    const { server, origin } = await serve(drain, (_method, res) => {
      // As the relay writes a pod's answer: a flat header list, then chunks that split events anywhere.
      res.writeHead(200, ['content-type', 'text/event-stream', 'cache-control', 'no-cache']);
      res.flushHeaders();
      res.write('event: message\r\ndata: one\r\n\r\n');
      res.write('data: tw');
      stream = res;
    });
    const response = await request(origin, { reset: false });
    const text = response.body.text();
    await until('the stream under way', () => stream !== null);
    let outcome: Promise<DrainOutcome> | null = null;
    await new Promise<void>((listenerClosed) => {
      outcome = drain.run(server, { delayMs: 50, timeoutMs: 5000, onListenerClosed: () => listenerClosed() });
    });
    // The rest of the event being written, and the start of the next, arrive after the listener closed.
    stream!.write('o\n\ndata: thr');
    stream!.write('ee\n\n');
    expect(await text).toBe('event: message\r\ndata: one\r\n\r\ndata: two\n\n');
    expect(await outcome).toEqual({ kind: 'drained' });
  });

  it('ends at once an event stream that is between events, and one whose request came in as the listener closed', async () => {
    const drain = new Drain();
    let streams = 0;
    const { server, origin, port } = await serve(drain, (_method, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': keep-alive\n\n');
      streams++;
    });
    const first = await request(origin, { reset: true });
    const firstText = first.body.text();
    // A request half sent: its connection is not idle, so the listener's close leaves it open.
    const raw = connect(port, '127.0.0.1');
    let rawText = '';
    raw.on('data', (chunk: Buffer) => (rawText += chunk.toString()));
    const rawEnded = new Promise((resolve) => raw.once('end', resolve));
    raw.write('GET /stream HTTP/1.1\r\nHost: x\r\n');
    await until('the first stream open', () => streams === 1);
    await new Promise<void>((listenerClosed) => {
      void drain.run(server, { delayMs: 50, timeoutMs: 5000, onListenerClosed: () => listenerClosed() });
    });
    expect(await firstText).toBe(': keep-alive\n\n');
    raw.write('\r\n');
    await rawEnded;
    expect(rawText).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(rawText).toMatch(/\r\nConnection: close\r\n/i);
    expect(rawText.endsWith('\r\n\r\ne\r\n: keep-alive\n\n\r\n0\r\n\r\n'), rawText).toBe(true);
  });

  it('asks for the connection to close on answers during the delay, lets an answer under way finish, and then refuses connections', async () => {
    const drain = new Drain();
    const { server, origin, held } = await serveHolding(drain);
    const slow = request(origin, { method: 'POST', body: 'x' });
    await until('the slow answer under way', () => held.length === 1);
    held[0]!.writeHead(200, { 'content-type': 'text/plain' }); // its head went out before the drain: keep-alive
    held[0]!.write('part 1, ');
    const outcome = drain.run(server, { delayMs: 300, timeoutMs: 5000 });
    const during = await request(origin, { reset: false });
    expect(during.headers.connection).toBe('close');
    expect(await during.body.text()).toBe('ok');
    await until('new connections refused', async () => (await request(origin).then((r) => r.body.dump(), (e: NodeJS.ErrnoException) => e.code)) === 'ECONNREFUSED');
    held[0]!.end('part 2');
    const answer = await slow;
    expect(await answer.body.text()).toBe('part 1, part 2');
    expect(await outcome, 'the connection closed with its last answer').toEqual({ kind: 'drained' });
  });

  it('keeps a connection idle at the listener\'s close open while answers are under way, and answers a request on it with Connection: close', async () => {
    const drain = new Drain();
    const { server, origin, held } = await serveHolding(drain);
    const kept = new Agent({ connections: 1 });
    cleanups.push(() => kept.close());
    expect((await request(origin, { dispatcher: kept })).headers.connection).toBe('keep-alive'); // now idle
    const slow = request(origin, { method: 'POST', body: 'x' });
    await until('an answer under way', () => held.length === 1);
    let listenerClosed = false;
    const outcome = drain.run(server, { delayMs: 50, timeoutMs: 5000, onListenerClosed: () => (listenerClosed = true) });
    await until('the listener closed', () => listenerClosed);
    const late = await request(origin, { dispatcher: kept });
    expect({ status: late.statusCode, connection: late.headers.connection, body: await late.body.text() }).toEqual({ status: 200, connection: 'close', body: 'ok' });
    held[0]!.writeHead(200).end('done');
    expect(await (await slow).body.text()).toBe('done');
    expect(await outcome).toEqual({ kind: 'drained' });
  });

  it('past the timeout, cuts what is left and says how much', async () => {
    const drain = new Drain();
    let received = false;
    const { server, origin } = await serve(drain, () => {
      received = true; // and never answered
    });
    const hanging = request(origin, { method: 'POST', body: 'x' }).catch((error: Error) => error);
    await until('the request in', () => received);
    expect(await drain.run(server, { delayMs: 0, timeoutMs: 100 })).toEqual({ kind: 'timed-out', cut: 1 });
    expect(await hanging).toBeInstanceOf(Error);
  });
});
