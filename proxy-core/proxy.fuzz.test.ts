import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, createProxyServer } from './http/server.ts';
import { McpProxy } from './proxy.ts';
import { MemoryStore } from './store/memory.ts';
import { call, connectClient, rawSession } from './test/client.ts';
import { startLab, until, type TestLab } from './test/lab.ts';
import { startPod } from './test/pods.ts';

// The HTTP boundary, fuzzed: raw bytes on a socket (so that what a client library would refuse
// to send reaches the proxy), against one replica on real Redis with two real demo pods.

const PREFIX = 'fuzz:';
/** Small, so that bodies beyond it are cheap to send. */
const MAX_BODY = 64 * 1024;
const RUNS = 500;
/** Requests per run, sent at once: RUNS × BATCH requests in all. */
const BATCH = 20;
/** A request with no answer within this long is a hang. */
const ANSWER_MS = 5000;

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
});

/** One generated request, as it goes on the wire. */
interface FuzzRequest {
  method: string;
  target: string;
  /** Names and values as bytes (latin1): any byte may be in a value. */
  headers: [string, string][];
  body: Buffer;
  /** How the body is framed: `truncated` declares more than it sends, then closes its side. */
  framing: 'length' | 'chunked' | 'none' | 'truncated';
}

interface RawAnswer {
  /** Null: the connection closed with no answer. */
  status: number | null;
  contentType: string;
  body: Buffer;
  timedOut: boolean;
}

function wire(r: FuzzRequest): Buffer {
  const head = [`${r.method} ${r.target} HTTP/1.1`, 'host: 127.0.0.1', 'connection: close', ...r.headers.map(([n, v]) => `${n}: ${v}`)];
  let body = r.body;
  if (r.framing === 'length') head.push(`content-length: ${body.length}`);
  if (r.framing === 'truncated') head.push(`content-length: ${body.length + 1 + (body.length >> 1)}`);
  if (r.framing === 'chunked') {
    head.push('transfer-encoding: chunked');
    body = body.length ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]) : Buffer.from('0\r\n\r\n');
  }
  return Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n\r\n', 'latin1'), body]);
}

/** Sends a request as raw bytes and reads the first answer: whole, or just its head for an event stream. */
function exchange(port: number, r: FuzzRequest): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let settled = false;
    const done = (answer: Omit<RawAnswer, 'timedOut'>, timedOut = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...answer, timedOut });
    };
    const parsed = () => {
      const end = data.indexOf('\r\n\r\n');
      if (end === -1) return null;
      const lines = data.subarray(0, end).toString('latin1').split('\r\n');
      const headers = new Map(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      return { status: Number(lines[0]!.split(' ')[1]), headers, body: data.subarray(end + 4) };
    };
    const complete = (p: NonNullable<ReturnType<typeof parsed>>): Buffer | null => {
      if (r.method === 'HEAD' || p.status === 204 || p.status === 304) return Buffer.alloc(0);
      const length = p.headers.get('content-length');
      if (length !== undefined) return p.body.length >= Number(length) ? p.body.subarray(0, Number(length)) : null;
      if (p.headers.get('transfer-encoding') === 'chunked') return p.body.includes('\r\n0\r\n\r\n') || p.body.subarray(0, 5).equals(Buffer.from('0\r\n\r\n')) ? dechunk(p.body) : null;
      return null; // until the server closes
    };
    const timer = setTimeout(() => done({ status: parsed()?.status ?? null, contentType: '', body: Buffer.alloc(0) }, true), ANSWER_MS);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const p = parsed();
      if (!p) return;
      const contentType = p.headers.get('content-type') ?? '';
      // A stream stays open as long as the session does: its head is the answer.
      if (contentType.startsWith('text/event-stream') && r.method === 'GET') return done({ status: p.status, contentType, body: Buffer.alloc(0) });
      const body = complete(p);
      if (body) done({ status: p.status, contentType, body });
    });
    socket.on('close', () => {
      const p = parsed();
      const body = p ? (p.headers.get('transfer-encoding') === 'chunked' ? dechunk(p.body) : p.body) : Buffer.alloc(0);
      done({ status: p?.status ?? null, contentType: p?.headers.get('content-type') ?? '', body });
    });
    socket.once('connect', () => {
      const bytes = wire(r);
      if (r.framing === 'truncated') socket.end(bytes);
      else socket.write(bytes);
    });
  });
}

function dechunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol === -1) break;
    const size = parseInt(body.subarray(at, eol).toString('latin1'), 16);
    if (!(size > 0)) break;
    parts.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** A JSON-RPC error answer: one error object, or a batch of them. */
function isJsonRpcError(body: Buffer): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return false;
  }
  const one = (m: unknown) => typeof m === 'object' && m !== null && (m as { jsonrpc?: unknown }).jsonrpc === '2.0'
    && typeof (m as { error?: { code?: unknown } }).error?.code === 'number';
  return Array.isArray(parsed) ? parsed.length > 0 && parsed.every(one) : one(parsed);
}

/** What is wrong with an answer, or null. */
function verdict(r: FuzzRequest, a: RawAnswer): string | null {
  if (a.timedOut) return `no answer within ${ANSWER_MS} ms (status line: ${a.status ?? 'none'})`;
  // A client that never finished its request gets whatever the server makes of it, or nothing.
  if (a.status === null) return r.framing === 'truncated' ? null : 'the connection closed with no answer';
  if (a.status < 500) return null;
  if ((a.status === 502 || a.status === 503) && isJsonRpcError(a.body)) return null;
  return `HTTP ${a.status}: ${a.body.toString('utf8').slice(0, 300)}`;
}

// --- what is generated ---------------------------------------------------------------

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');
const validIds: string[] = [];

const method = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('POST', 'GET', 'DELETE') },
  { weight: 2, arbitrary: fc.constantFrom('PUT', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE') },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Z]{1,12}$/) },
);
const target = fc.oneof(
  { weight: 10, arbitrary: fc.constant('/mcp') },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }).map((q) => `/mcp?${encodeURIComponent(q)}`) },
  { weight: 1, arbitrary: fc.constantFrom('/', '/healthz', '/metrics', '/mcp/', '//mcp', '/MCP', '/mcp/../mcp', '*', '/mcp?sessionId=x', '/sse', '/messages?sessionId=abc') },
);
const sessionValue = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...Array.from({ length: 6 }, (_, i) => i)).map((i) => validIds[i] ?? 'none-yet') },
  { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{22}$/) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map(latin1) },
  { weight: 1, arbitrary: fc.uint8Array({ min: 0x80, max: 0xff, minLength: 22, maxLength: 22 }).map(latin1) },
  { weight: 1, arbitrary: fc.constantFrom(`${PREFIX}session:x`, '*', '../../etc', 'session:*', `${'A'.repeat(21)}\u00ff`, 'A'.repeat(8000), ' ') },
);
/**
 * Mostly what a client would send; sometimes bytes beyond ASCII (which HTTP allows in a value,
 * and which reach the proxy and the pod), sometimes any bytes (a control byte makes Node's
 * parser answer 400 itself).
 */
const headerValue = fc.oneof(
  { weight: 5, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.uint8Array({ min: 0x80, max: 0xff, maxLength: 40 }).map(latin1) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map(latin1) },
);
const extraHeader = fc.tuple(
  fc.oneof(
    fc.constantFrom('mcp-protocol-version', 'last-event-id', 'x-forwarded-for', 'x-forwarded-proto', 'connection', 'mcp-method', 'mcp-name', 'cookie', 'keep-alive', 'te', 'upgrade', 'content-encoding'),
    fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
  ),
  fc.oneof(fc.constantFrom('2025-06-18', '2026-07-28', 'close', 'keep-alive', 'mcp-session-id', 'gzip', 'x-forwarded-for'), headerValue),
);
/** No `Mcp-Session-Id`, one, or the header repeated. */
const sessionHeaders: fc.Arbitrary<string[]> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<string[]>([]) },
  { weight: 6, arbitrary: sessionValue.map((v) => [v]) },
  { weight: 1, arbitrary: fc.array(sessionValue, { minLength: 2, maxLength: 3 }) },
);
const headers = fc.record({
  sessions: sessionHeaders,
  contentType: fc.oneof(
    { weight: 6, arbitrary: fc.constant('application/json') },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 2, arbitrary: fc.constantFrom('text/plain', 'application/json; charset=latin1', 'multipart/form-data; boundary=x', '', 'application/json, text/html') },
    { weight: 1, arbitrary: headerValue },
  ),
  accept: fc.oneof(
    { weight: 6, arbitrary: fc.constant('application/json, text/event-stream') },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 2, arbitrary: fc.constantFrom('text/event-stream', 'application/json', '*/*') },
    { weight: 1, arbitrary: headerValue },
  ),
  extra: fc.array(extraHeader, { maxLength: 3 }),
}).map(({ sessions, contentType, accept, extra }) => [
  ...sessions.map((s): [string, string] => ['mcp-session-id', s]),
  ...(contentType === null ? [] : [['content-type', contentType] as [string, string]]),
  ...(accept === null ? [] : [['accept', accept] as [string, string]]),
  ...extra,
]);

const id = fc.oneof(fc.integer(), fc.string({ maxLength: 10 }), fc.constant(null), fc.constant({ a: 1 }), fc.constant([1]), fc.constant(undefined));
const initializeParams = fc.oneof(
  fc.constant({ protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'fuzz', version: '0' } }),
  fc.jsonValue({ maxDepth: 3 }),
);
const message = fc.oneof(
  fc.record({
    jsonrpc: fc.constantFrom('2.0', '2.0', '1.0', undefined),
    id,
    method: fc.constantFrom('initialize', 'tools/call', 'ping', 'tools/list', 'notifications/initialized', 'resources/read', 'prompts/get', 'completion/complete'),
    params: fc.oneof(
      initializeParams,
      fc.record({ name: fc.constantFrom('counter', 'whoami', 'echo', 'nope'), arguments: fc.jsonValue({ maxDepth: 2 }) }),
    ),
  }, { requiredKeys: ['method'] }),
  fc.jsonValue({ maxDepth: 3 }),
);
/** What a client means to send: calls the demo pods answer, so that requests get past the proxy to a pod and back. */
const intendedCall = fc.tuple(fc.nat(), fc.constantFrom(
  { method: 'tools/call', params: { name: 'counter', arguments: {} } },
  { method: 'tools/call', params: { name: 'whoami', arguments: {} } },
  { method: 'tools/call', params: { name: 'echo', arguments: { text: 'fuzz' } } },
  { method: 'ping' },
  { method: 'tools/list' },
)).map(([n, m]) => ({ jsonrpc: '2.0', id: n, ...m }));
const jsonText = (value: unknown) => JSON.stringify(value) ?? 'null';
const body = fc.oneof(
  { weight: 4, arbitrary: intendedCall.map((m) => Buffer.from(jsonText(m))) },
  { weight: 6, arbitrary: message.map((m) => Buffer.from(jsonText(m))) },
  { weight: 3, arbitrary: fc.array(message, { maxLength: 8 }).map((batch) => Buffer.from(jsonText(batch))) },
  // an initialize hidden behind a JSON escape
  { weight: 1, arbitrary: initializeParams.map((p) => Buffer.from(`{"jsonrpc":"2.0","id":1,"method":"\\u0069nitialize","params":${jsonText(p)}}`)) },
  { weight: 2, arbitrary: fc.tuple(message, fc.nat()).map(([m, cut]) => { const text = jsonText(m); return Buffer.from(text.slice(0, cut % Math.max(1, text.length))); }) },
  { weight: 1, arbitrary: fc.integer({ min: MAX_BODY + 1, max: MAX_BODY * 3 }).map((n) => Buffer.alloc(n, 0x5b /* [ */)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 100, max: 20_000 }), fc.boolean()).map(([depth, array]) => Buffer.from(array ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth))) },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
);
const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc.record({
  method, target, headers, body,
  framing: fc.oneof(
    { weight: 12, arbitrary: fc.constant<FuzzRequest['framing']>('length') },
    { weight: 1, arbitrary: fc.constantFrom<FuzzRequest['framing']>('chunked', 'none', 'truncated') },
  ),
});

/** Sessions the fuzzer deleted are replaced, so that requests on live sessions keep reaching the pods. */
async function renewDeleted(requests: FuzzRequest[], answers: RawAnswer[], url: string): Promise<void> {
  for (const [i, r] of requests.entries()) {
    const sessions = r.headers.filter(([name]) => name === 'mcp-session-id');
    const index = sessions.length === 1 ? validIds.indexOf(sessions[0]![1]) : -1;
    // The record goes whatever the pod answers the DELETE.
    if (r.method === 'DELETE' && index !== -1 && answers[i]!.status !== null) validIds[index] = await rawSession(url);
  }
}

describe('the HTTP boundary, fuzzed', () => {
  let lab: TestLab;
  beforeAll(async () => {
    lab = await startLab(2, 1, { replica: { keyPrefix: PREFIX, maxBody: MAX_BODY, maxInitialize: 16 * 1024 } });
    for (let i = 0; i < 6; i++) validIds.push(await rawSession(lab.replicas[0]!.url));
  });
  afterAll(async () => {
    await lab?.close();
  });

  it(`answers ${RUNS * BATCH} generated requests below 500 (or 502/503 with a JSON-RPC body), never crashes, and writes only under its prefix`, async () => {
    const replica = lab.replicas[0]!;
    const statuses = new Map<string, number>();
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fuzzRequest, { minLength: BATCH, maxLength: BATCH }), async (requests) => {
        const answers = await Promise.all(requests.map((r) => exchange(replica.port, r)));
        sent += requests.length;
        await renewDeleted(requests, answers, replica.url);
        for (const a of answers) {
          const key = a.timedOut ? 'no answer (timed out)' : a.status === null ? 'closed, no answer' : String(a.status);
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
        }
        const wrong = requests.map((r, i) => verdict(r, answers[i]!)).find((v) => v !== null);
        expect(wrong ?? null).toBeNull();
        expect(unhandled.map(String)).toEqual([]);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    const distribution = [...statuses].sort((a, b) => b[1] - a[1]).map(([status, n]) => `${status}: ${n}`).join(', ');
    const reached = replica.events.filter((e) => e.type === 'request.routed').length;
    console.log(`fuzz: ${sent} requests, ${reached} answered by the proxy (the rest by Node's HTTP parser or the server's routes); answers by status: ${distribution}`);
    expect(sent).toBeGreaterThanOrEqual(10_000);

    // Still serving: its health, and a whole session through it.
    const health = await request(replica.url.replace(/\/mcp$/, '/healthz'));
    expect(health.statusCode).toBe(200);
    await health.body.dump();
    const { client } = await connectClient(replica.url);
    expect(await call<{ count: number }>(client, 'counter')).toMatchObject({ count: 1 });
    await client.close();

    // Nothing outside the prefix, whatever the session ids said.
    const keys: string[] = [];
    for await (const batch of lab.redis.client.scanStream({ match: '*', count: 1000 }) as AsyncIterable<string[]>) keys.push(...batch);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((k) => !k.startsWith(PREFIX))).toEqual([]);
    expect(unhandled.map(String)).toEqual([]);
  }, 180_000);
});

/** Sends `request` as raw bytes and goes away at once, without reading an answer. */
async function sendAndLeave(port: number, request: string): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.end(request);
  socket.destroy();
}

/** A memory store whose reads wait while `hold` is set: a slow Redis, on cue. */
class HeldStore extends MemoryStore {
  hold: Promise<void> | null = null;
  override async get(id: string) {
    await this.hold;
    return super.get(id);
  }
}

describe('regressions', () => {
  // Found by the soak (app/soak): the replica process died of an unhandled rejection.
  it('a client gone before a failed recovery leaves no unhandled rejection behind', async () => {
    const pod = await startPod('pod-1');
    const store = new HeldStore(0);
    const proxy = new McpProxy({
      replicaId: 'replica-1', backends: [pod.url], store, pinning: 'pod', recovery: true, unknownSessionStatus: 404, maxBodyBytes: 1 << 20,
      health: { intervalMs: 100, timeoutMs: 100, unhealthyAfter: 1 },
    });
    const server = createProxyServer(proxy);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const sessionId = await rawSession(`http://127.0.0.1:${port}/mcp`);
      await pod.kill(); // the only pod: its sessions cannot be recovered
      await until('the pod is unhealthy', () => proxy.podHealth().every((p) => !p.healthy));
      let release!: () => void;
      store.hold = new Promise((resolve) => (release = resolve));
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'counter', arguments: {} } });
      await sendAndLeave(port, [
        'POST /mcp HTTP/1.1', 'host: 127.0.0.1', 'content-type: application/json', 'accept: application/json, text/event-stream',
        `mcp-session-id: ${sessionId}`, `content-length: ${Buffer.byteLength(body)}`, '', body,
      ].join('\r\n'));
      await sleep(200); // the proxy sees the client go while it reads the record
      store.hold = null;
      release();
      await sleep(500);
      expect(unhandled.map(String)).toEqual([]);
    } finally {
      await closeServer(server);
      await proxy.close();
      await store.close();
    }
  });
});
