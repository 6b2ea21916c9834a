import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../app/net/free-port.ts';
import { SESSION_NOT_FOUND } from './jsonrpc.ts';
import { startEverything, type EverythingPod } from './test/everything.ts';
import { ofType, until } from './test/lab.ts';
import { startRedis, type TestRedis } from './test/redis.ts';
import { startReplica } from './test/replicas.ts';

type Replica = Awaited<ReturnType<typeof startReplica>>;

/** An SDK client on the legacy transport; `via` picks the replica its POSTs go through (its stream stays where it was opened). */
async function connectSse(url: string, via?: () => string) {
  const posted: string[] = [];
  const transport = new SSEClientTransport(new URL(url), {
    // Used for the stream's GET too: that one always goes to `url`.
    fetch: (target, init) => {
      if (init?.method !== 'POST') return fetch(target, init);
      const address = String(target).replace(new URL(url).origin, via?.() ?? new URL(url).origin);
      posted.push(address);
      return fetch(address, init);
    },
  });
  const client = new Client({ name: 'pinlab-legacy', version: '0.0.0' });
  const errors: Error[] = [];
  client.onerror = (error) => errors.push(error);
  await client.connect(transport);
  return { client, transport, posted, errors };
}

async function echo(client: Client, message: string): Promise<string> {
  const result = await client.callTool({ name: 'echo', arguments: { message } });
  return (result.content as { text: string }[])[0]!.text;
}

const created = (replica: Replica) => ofType(replica.events, 'session.created');

describe('the legacy HTTP+SSE transport (GET stream + POST ?sessionId=), routed by the same records', () => {
  let redis: TestRedis;
  let pods: EverythingPod[];
  let a: Replica;
  let b: Replica;

  beforeAll(async () => {
    [redis, pods] = await Promise.all([startRedis(), Promise.all([startEverything('sse'), startEverything('sse')])]);
    const backends = pods.map((p) => p.url);
    // A short TTL: an open stream must keep its record alive past it.
    const config = { backends, store: 'redis' as const, redisUrl: redis.url, healthIntervalMs: 200, healthTimeoutMs: 200, sessionTtl: 2 };
    a = await startReplica({ ...config, replicaId: 'replica-a' });
    b = await startReplica({ ...config, replicaId: 'replica-b' });
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    for (const pod of pods ?? []) pod.resume();
    await Promise.all([...(pods ?? []).map((p) => p.kill()), redis?.close()]);
  });

  it('pins the stream to the pod it reached, gives the client the proxy\'s endpoint, and routes its POSTs there through either replica', async () => {
    let via = a.url;
    const { client, posted } = await connectSse(a.url, () => new URL(via).origin);
    const session = created(a).at(-1)!;
    expect(session).toMatchObject({ replicaId: 'replica-a', pinning: 'pod', transport: 'sse' });
    const pod = pods.find((p) => p.address === session.pod)!;
    expect(pod, 'the recorded pod is one of the pods').toBeDefined();

    const record = JSON.parse((await redis.client.get(`pinlab:session:${session.sessionId}`))!);
    expect(record).toMatchObject({ pinning: 'pod', target: `http://${pod.address}/message?sessionId=${session.backendSessionId}`, lastReplicaId: 'replica-a' });
    expect(pod.output(), 'the pod issued the backend session').toContain(`Client Connected:  ${session.backendSessionId}`);
    expect(posted[0], 'the client POSTs to the proxy, with the minted id, never the pod\'s').toBe(`${a.url}?sessionId=${session.sessionId}`);

    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('echo');
    for (let i = 1; i <= 3; i++) expect(await echo(client, `via A ${i}`)).toBe(`Echo: via A ${i}`);

    // The stream stays on replica A; the POSTs now go through replica B, which reads the record from Redis.
    via = b.url;
    for (let i = 1; i <= 3; i++) expect(await echo(client, `via B ${i}`)).toBe(`Echo: via B ${i}`);
    const viaB = ofType(b.events, 'request.routed').filter((e) => e.sessionId === session.sessionId);
    expect(viaB.length, 'B routed the POSTs').toBeGreaterThanOrEqual(3);
    expect(viaB.every((e) => e.httpMethod === 'POST' && e.pod === pod.address && e.status === 202)).toBe(true);
    expect(created(b), 'B created no session').toEqual([]);
    expect(posted.at(-1)).toBe(`${b.url}?sessionId=${session.sessionId}`);

    await client.close();
    const ended = await endedOf(a, session.sessionId);
    expect(ended.streamEnded).toMatchObject({ by: 'client-closed' });
    await until('the record is gone', async () => (await redis.client.exists(`pinlab:session:${session.sessionId}`)) === 0);
    await until('the pod closed its session', () => pod.output().includes(`Client Disconnected:  ${session.backendSessionId}`));
  });

  it('keeps the record of an open stream alive past the TTL, however long the client stays quiet', async () => {
    const { client } = await connectSse(a.url);
    const session = created(a).at(-1)!;
    await new Promise((resolve) => setTimeout(resolve, 2500)); // the TTL is 2 s: only the stream's refreshes keep the record
    expect(await redis.client.exists(`pinlab:session:${session.sessionId}`)).toBe(1);
    expect(await echo(client, 'still here')).toBe('Echo: still here');
    await client.close();
  });

  it('cuts the stream of a pod that stops answering its probes: the session ends, the client sees its stream end', async () => {
    const { client, errors } = await connectSse(a.url);
    const session = created(a).at(-1)!;
    const pinned = pods.find((p) => p.address === session.pod)!;
    pinned.pause();
    try {
      const ended = await endedOf(a, session.sessionId);
      expect(ended.streamEnded).toMatchObject({ by: 'pod-unhealthy', reason: expect.stringMatching(/health probes.*cannot move to another pod/) });
      await until('the client saw its stream end', () => errors.length > 0);
      expect(await redis.client.exists(`pinlab:session:${session.sessionId}`)).toBe(0);
    } finally {
      pinned.resume();
      await client.close();
    }
    await until('the pod is healthy again', () => a.proxy.podHealth().find((h) => h.pod === pinned.address)?.healthy === true);
  });

  it('ends the stream when its pod dies, says the session cannot move, answers its POSTs 404; a new connection gets a new session on the other pod', async () => {
    const { client, errors } = await connectSse(b.url);
    const session = created(b).at(-1)!;
    const pinned = pods.find((p) => p.address === session.pod)!;
    const other = pods.find((p) => p !== pinned)!;
    expect(await echo(client, 'before')).toBe('Echo: before');

    await pinned.kill();
    const ended = await endedOf(b, session.sessionId);
    expect(ended).toMatchObject({ pod: pinned.address, podStatus: null, streamEnded: { by: 'pod-lost', reason: expect.stringMatching(/cannot move to another pod/) } });
    await until('the client saw its stream end', () => errors.length > 0);
    expect(String(errors[0])).toMatch(/SSE error/);

    // Until its EventSource reconnects, the client still POSTs to its old endpoint: the session is gone.
    const failed = await echo(client, 'after').then(() => null, (e: Error) => e);
    expect(failed?.message).toMatch(/HTTP 404/);
    const raw = await request(`${b.url}?sessionId=${session.sessionId}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
    });
    expect(raw.statusCode).toBe(404);
    expect(await raw.body.json()).toMatchObject({ jsonrpc: '2.0', id: 9, error: { code: SESSION_NOT_FOUND } });
    await client.close();

    const again = await connectSse(a.url);
    const next = created(a).at(-1)!;
    expect(next.sessionId).not.toBe(session.sessionId);
    expect(next.pod, 'the service passes over the dead pod').toBe(other.address);
    expect(await echo(again.client, 'after')).toBe('Echo: after');
    await again.client.close();
  });

  it('answers what the legacy transport does not have: a POST without a session, DELETE, a GET naming a session, an unknown session', async () => {
    const post = (query: string) => request(`${a.url}${query}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    const initialize = await post('');
    expect(initialize.statusCode, 'a Streamable HTTP client falls back on a 4xx').toBe(405);
    expect(initialize.headers.allow).toBe('GET');
    expect(JSON.stringify(await initialize.body.json())).toMatch(/legacy HTTP\+SSE/);

    const unknown = await post('?sessionId=AAAAAAAAAAAAAAAAAAAAAA');
    expect(unknown.statusCode).toBe(404);
    expect(await unknown.body.json()).toMatchObject({ id: 1, error: { code: SESSION_NOT_FOUND, message: 'Session not found' } });
    const junk = await post('?sessionId=../../etc');
    expect(junk.statusCode, 'an id the proxy never mints never reaches the store').toBe(404);
    await junk.body.dump();

    const deleted = await request(`${a.url}?sessionId=AAAAAAAAAAAAAAAAAAAAAA`, { method: 'DELETE' });
    expect(deleted.statusCode).toBe(405);
    expect(deleted.headers.allow).toBe('GET, POST');
    await deleted.body.dump();

    // A record left by a replica that crashed with its stream, its pod gone too.
    const orphan = 'BBBBBBBBBBBBBBBBBBBBBB';
    await redis.client.set(`pinlab:session:${orphan}`, JSON.stringify({
      clientSessionId: orphan, backendSessionId: 'x', target: `http://127.0.0.1:${await freePort()}/message?sessionId=x`, pinning: 'pod', protocolVersion: null,
      createdAt: 0, lastSeenAt: 0, lastReplicaId: 'replica-gone', reinitCount: 0, generation: 0,
    }), 'EX', 60);
    const lost = await post(`?sessionId=${orphan}`);
    expect(lost.statusCode).toBe(404);
    expect(await lost.body.json()).toMatchObject({ id: 1, error: { code: SESSION_NOT_FOUND, message: expect.stringMatching(/cannot be reached \(connect-refused\).*cannot move/) } });

    const get = await request(`${a.url}?sessionId=AAAAAAAAAAAAAAAAAAAAAA`);
    expect(get.statusCode).toBe(400);
    expect(JSON.stringify(await get.body.json())).toMatch(/leave out \?sessionId=/);
  });
});

describe('a pod that does not speak the legacy transport well', () => {
  it('a stream without a usable endpoint gets a 502 that says so (an open one is closed); a pod\'s refusal is relayed as it gave it', async () => {
    const open = new Set<ServerResponse>();
    const pod = createServer((req, res) => {
      if (req.url === '/sse?case=ended') res.writeHead(200, { 'content-type': 'text/event-stream' }).end('event: message\ndata: {}\n\n');
      else if (req.url === '/sse?case=junk') {
        res.writeHead(200, { 'content-type': 'text/event-stream' }).write('event: endpoint\ndata: mailto:nobody\n\n');
        open.add(res);
        res.once('close', () => open.delete(res));
      } else res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end('who are you?');
    });
    await new Promise<void>((resolve) => pod.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(pod.address() as AddressInfo).port}`;
    const sse = await startReplica({ backends: [`http://${address}/sse`], healthIntervalMs: 0 });
    const refusing = await startReplica({ backends: [`http://${address}/sse/`], healthIntervalMs: 0 });
    try {
      const ended = await request(`${sse.url}?case=ended`);
      expect(ended.statusCode).toBe(502);
      expect(JSON.stringify(await ended.body.json())).toContain(`pod ${address} did not name a message endpoint`);
      const junk = await request(`${sse.url}?case=junk`);
      expect(junk.statusCode).toBe(502);
      expect(JSON.stringify(await junk.body.json())).toContain('named an endpoint that is not a URL: \\"mailto:nobody\\"');
      await until('the pod\'s stream is closed', () => open.size === 0);
      expect(created(sse)).toEqual([]);

      const refused = await request(refusing.url);
      expect(refused.statusCode).toBe(401);
      expect(refused.headers['www-authenticate']).toBe('Bearer');
      expect(await refused.body.text()).toBe('who are you?');
    } finally {
      await Promise.all([sse.close(), refusing.close()]);
      await new Promise((resolve) => pod.close(resolve));
    }
  });
});

describe('a Streamable HTTP backend', () => {
  it('is not affected: initialize through the service, session header, no transport noted, the initialize body stored for replay', async () => {
    const [redis, pod] = await Promise.all([startRedis(), startEverything('streamableHttp')]);
    const replica = await startReplica({ backends: [pod.url], store: 'redis', redisUrl: redis.url });
    try {
      const transport = new StreamableHTTPClientTransport(new URL(replica.url));
      const client = new Client({ name: 'pinlab-streamable', version: '0.0.0' });
      await client.connect(transport);
      expect(await echo(client, 'hi')).toBe('Echo: hi');
      const [session] = created(replica);
      expect(session).toMatchObject({ sessionId: transport.sessionId, pod: pod.address });
      expect(session).not.toHaveProperty('transport');
      expect(await redis.client.get(`pinlab:init:${transport.sessionId}`)).toMatch(/"initialize"/);
      await client.close();
    } finally {
      await replica.close();
      await Promise.all([pod.kill(), redis.close()]);
    }
  });
});

/** The `session.deleted` event that ended a legacy session, once it comes. */
async function endedOf(replica: Replica, sessionId: string) {
  const find = () => ofType(replica.events, 'session.deleted').find((e) => e.sessionId === sessionId);
  await until(`session.deleted for ${sessionId}`, () => find() !== undefined);
  return find()!;
}
