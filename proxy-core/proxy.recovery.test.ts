import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { call, connectClient, rawCall, rawSession } from './test/client.ts';
import { ofType, podOf, startLab, type Replica } from './test/lab.ts';
import type { SessionLostStyle } from '../app/demo-backend/server.ts';

type WhoAmI = { pod: string; session: string };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

async function lab(podCount: number, replicaCount: number, options: { sessionLost?: SessionLostStyle; recovery?: boolean } = {}) {
  const started = await startLab(podCount, replicaCount, { pods: { sessionLost: options.sessionLost }, replica: { recovery: options.recovery ?? true } });
  cleanups.push(() => started.close());
  return started;
}

describe('recovery: transparent re-initialization', () => {
  it('a killed pod: the next call succeeds on a live pod after one re-initialization', async () => {
    const { pods, replicas: [proxy], redis } = await lab(3, 1);
    const { client, transport } = await connectClient(proxy!.url);
    const id = transport.sessionId!;
    const pinned = podOf(pods, proxy!, id);
    expect(await call(client, 'counter')).toMatchObject({ count: 1 });
    const before = await call<WhoAmI>(client, 'whoami');

    await pinned.kill(); // still listed by the service, as with kube-proxy lag

    const after = await call<WhoAmI>(client, 'whoami');
    expect(after.pod).not.toBe(pinned.name);
    expect(after.session).not.toBe(before.session);
    expect(transport.sessionId, 'the client keeps its session id').toBe(id);
    // A new backend session: its state started again (what the lab calls a state loss).
    expect(await call(client, 'counter')).toMatchObject({ count: 1 });

    const done = ofType(proxy!.events, 'recovery.done');
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ sessionId: id, fromPod: pinned.address, cause: 'connect-refused', reused: false, generation: 1 });
    const record = JSON.parse((await redis.client.get(`pinlab:session:${id}`))!);
    expect(record).toMatchObject({ generation: 1, reinitCount: 1, backendSessionId: after.session });
    expect(record.target).toBe(pods.find((p) => p.name === after.pod)!.url);
    await client.close();
  });

  for (const style of ['404', '400', '32001'] as const) {
    it(`a pod restarted in place that answers "${style}" for the lost session: recovered`, async () => {
      const { pods, replicas: [proxy] } = await lab(2, 1, { sessionLost: style });
      // Raw requests, no SDK client: its GET stream would reconnect while the pod is down
      // (a refused dial, recovered as such) and race the lost-session answer this is about.
      const id = await rawSession(proxy!.url);
      const pinned = podOf(pods, proxy!, id);
      expect((await rawCall(proxy!.url, id, 'counter', 1)).status).toBe(200);
      await pinned.restart(); // same address, empty memory

      const after = await rawCall(proxy!.url, id, 'whoami', 2);
      expect(after.status).toBe(200);
      expect(after.body).toContain('\\"session\\"');
      const done = ofType(proxy!.events, 'recovery.done');
      expect(done).toHaveLength(1);
      expect(done[0]!.cause).toBe(`session-lost-${style}`);
      // The handshake was completed: the new session answers tools, the pod counts one initialize per session.
      const stats = await Promise.all(pods.map((p) => p.stats()));
      expect(stats.reduce((n, s) => n + s.sessions, 0)).toBe(1);
    });
  }

  it('with recovery off, the client sees the pod\'s "session not found"', async () => {
    const { pods, replicas: [proxy] } = await lab(2, 1, { recovery: false });
    const { client, transport } = await connectClient(proxy!.url);
    await podOf(pods, proxy!, transport.sessionId!).restart();
    await expect(call(client, 'whoami')).rejects.toThrow(/404|session not found/i);
    expect(ofType(proxy!.events, 'recovery.started')).toHaveLength(0);
    await client.close();
  });

  it('a GET stream ends with its pod; the reconnecting GET takes the recovery path', async () => {
    const { pods, replicas: [proxy] } = await lab(2, 1);
    const id = await rawSession(proxy!.url);
    const pinned = podOf(pods, proxy!, id);
    const headers = { accept: 'text/event-stream', 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' };
    const stream = await request(proxy!.url, { method: 'GET', headers });
    expect(stream.statusCode).toBe(200);
    expect(stream.headers['content-type']).toMatch(/text\/event-stream/);
    expect(stream.headers['x-pinlab-pod']).toBe(pinned.name);
    const ended = stream.body.text().then(() => 'ended', () => 'ended');
    await pinned.kill();
    expect(await ended).toBe('ended');

    const again = await request(proxy!.url, { method: 'GET', headers });
    expect(again.statusCode).toBe(200);
    expect(again.headers['x-pinlab-pod']).not.toBe(pinned.name);
    expect(ofType(proxy!.events, 'recovery.done')).toMatchObject([{ sessionId: id, cause: 'connect-refused' }]);
    again.body.destroy();
  });

  it('DELETE never recovers, and the record is removed whatever the pod answers', async () => {
    const { pods, replicas: [proxy], redis } = await lab(2, 1);
    const live = await rawSession(proxy!.url);
    const liveDelete = await request(proxy!.url, { method: 'DELETE', headers: { 'mcp-session-id': live } });
    expect(liveDelete.statusCode).toBe(200);
    await liveDelete.body.dump();
    expect(await redis.client.exists(`pinlab:session:${live}`)).toBe(0);
    expect((await podOf(pods, proxy!, live).stats()).sessions, 'the pod closed its session').toBe(0);

    const id = await rawSession(proxy!.url);
    await podOf(pods, proxy!, id).kill();
    const deadDelete = await request(proxy!.url, { method: 'DELETE', headers: { 'mcp-session-id': id } });
    await deadDelete.body.dump();
    expect(deadDelete.statusCode, 'the pod is gone: the session is gone, no error').toBe(204);
    expect(await redis.client.exists(`pinlab:session:${id}`)).toBe(0);
    expect(ofType(proxy!.events, 'recovery.started')).toHaveLength(0);
    expect(ofType(proxy!.events, 'session.deleted').map((e) => [e.sessionId, e.podStatus])).toEqual([[live, 200], [id, null]]);
    expect((await rawCall(proxy!.url, id, 'whoami')).status, 'a deleted session is unknown').toBe(404);
  });

  it('20 concurrent calls across 2 replicas on a dead pod: exactly one re-initialization', async () => {
    const { pods, replicas } = await lab(3, 2);
    const [a, b] = replicas as [Replica, Replica];
    const id = await rawSession(a.url);
    const pinned = podOf(pods, a, id);
    await pinned.kill();
    const survivors = pods.filter((p) => p !== pinned);
    const initializesBefore = (await Promise.all(survivors.map((p) => p.stats()))).reduce((n, s) => n + s.initializes, 0);

    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => rawCall(i % 2 === 0 ? a.url : b.url, id, 'whoami', i + 1)));
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.headers['mcp-session-id'] ?? id).toBe(id);
      expect(answer.body).toContain('"result"');
    }
    const pods2 = new Set(answers.map((x) => /\\"pod\\":\\"(pod-\d)\\"/.exec(x.body)?.[1]));
    expect(pods2.size, 'every call reached the same new pod').toBe(1);

    const events = [...a.events, ...b.events];
    expect(ofType(events, 'recovery.done').filter((e) => !e.reused)).toHaveLength(1);
    expect(ofType(events, 'recovery.failed')).toHaveLength(0);
    const initializesAfter = (await Promise.all(survivors.map((p) => p.stats()))).reduce((n, s) => n + s.initializes, 0);
    expect(initializesAfter - initializesBefore, 'the pods saw one initialize').toBe(1);
  });
  it('a recovery passes over a pod that fails the replayed initialize, and a refused pod is marked unhealthy at once', async () => {
    const { pods: [first, second], replicas: [proxy] } = await lab(2, 1);
    // A pod that answers its probes but fails every MCP request: in the service, healthy, useless.
    const broken = createServer((req, res) => {
      if (req.method === 'POST') brokenPosts++;
      res.writeHead(req.method === 'OPTIONS' ? 204 : 503).end();
    });
    let brokenPosts = 0;
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => broken.close(resolve)));
    proxy!.proxy.setBackends([first!.url]);
    const ids = [await rawSession(proxy!.url), await rawSession(proxy!.url), await rawSession(proxy!.url), await rawSession(proxy!.url)];
    proxy!.proxy.setBackends([first!.url, `http://127.0.0.1:${(broken.address() as AddressInfo).port}/mcp`, second!.url]);
    await first!.kill();

    // Round-robin over the healthy two: some handshakes reach the broken pod first and try again.
    for (const [i, id] of ids.entries()) {
      const answer = await rawCall(proxy!.url, id, 'whoami', i + 1);
      expect(answer.status).toBe(200);
      expect(answer.body).toContain(`\\"pod\\":\\"${second!.name}\\"`);
    }
    expect(brokenPosts, 'the broken pod was tried').toBeGreaterThan(0);
    expect(ofType(proxy!.events, 'recovery.failed')).toHaveLength(0);
    expect(ofType(proxy!.events, 'recovery.done').filter((e) => !e.reused)).toHaveLength(4);
    // The first refused dial marked the dead pod, before its probes would have.
    expect(ofType(proxy!.events, 'pod.health').find((e) => e.pod === first!.address && e.health === 'unhealthy'))
      .toMatchObject({ byRequest: true, reason: 'connect-refused' });
  });
  it('with more pods than three, a recovery gives each pod its chance: ten pods fail the handshake, the eleventh serves', async () => {
    const { pods: [first, good], replicas: [proxy] } = await lab(2, 1);
    // Pods that answer probes but drop every MCP request mid-handshake, as dying pods do.
    let brokenPosts = 0;
    const broken = await Promise.all(Array.from({ length: 10 }, async () => {
      const server = createServer((req, res) => {
        if (req.method !== 'POST') return void res.writeHead(204).end();
        brokenPosts++;
        res.socket?.destroy();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => new Promise((resolve) => server.close(resolve)));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
    }));
    proxy!.proxy.setBackends([first!.url]);
    const id = await rawSession(proxy!.url);
    proxy!.proxy.setBackends([...broken, good!.url]);
    await first!.kill();

    const answer = await rawCall(proxy!.url, id, 'whoami', 1);
    expect(answer.status).toBe(200);
    expect(answer.body).toContain(`\\"pod\\":\\"${good!.name}\\"`);
    expect(brokenPosts, 'the handshakes met the broken pods first').toBeGreaterThan(0);
    expect(ofType(proxy!.events, 'recovery.failed')).toHaveLength(0);
  });
});
