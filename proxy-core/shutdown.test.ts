import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client as UndiciClient, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { call, connectClient } from './test/client.ts';
import { startFrontDoor } from './test/front-door.ts';
import { until } from './test/lab.ts';
import { startPods } from './test/pods.ts';
import { startRedis } from './test/redis.ts';
import { spawnReplica, type ProxyProcess } from './test/replicas.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

async function readyz(port: number) {
  const response = await request(`http://127.0.0.1:${port}/readyz`, { reset: true });
  return { status: response.statusCode, connection: response.headers.connection, body: await response.body.json() };
}

/** Whether a new TCP connection to the port is refused. */
function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

function exitOf(replica: ProxyProcess): Promise<number | null> {
  const { child } = replica;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('graceful shutdown of pinlab-proxy (SIGTERM)', () => {
  it('turns /readyz 503 at once, finishes the call under way, refuses new connections after --shutdown-delay, and exits 0', async () => {
    const [pod] = await startPods(1);
    cleanups.push(() => pod!.kill());
    const replica = await spawnReplica({ backends: [pod!.url], shutdownDelayMs: 1000, shutdownTimeoutMs: 20_000 });
    cleanups.push(() => replica.kill());
    expect(await readyz(replica.port)).toMatchObject({ status: 200, body: { status: 'ready' } });

    const { client } = await connectClient(replica.url);
    const transportErrors: string[] = [];
    client.onerror = (error) => transportErrors.push(error.message);
    let progressed = false;
    const slow = client.callTool({ name: 'slow', arguments: { steps: 2, delayMs: 0, waitFor: 'drain-test' } }, undefined, {
      onprogress: () => {
        progressed = true;
      },
    });
    await until('the slow call under way', () => progressed);

    const exited = exitOf(replica);
    replica.child.kill('SIGTERM');
    // Answered at all: the listener still takes connections, and readiness is already off.
    await until('/readyz says 503', async () => (await readyz(replica.port)).status === 503);
    const during = await readyz(replica.port);
    expect(during).toMatchObject({ status: 503, body: { status: 'draining' } });
    expect(during.connection, 'answers during a drain close their connection').toBe('close');

    await until('new connections refused', () => refuses(replica.port));
    expect(replica.child.exitCode, 'the call under way holds the exit').toBeNull();
    await (await request(`http://127.0.0.1:${pod!.port}/latch/drain-test`, { method: 'POST' })).body.dump();
    const result = await slow;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ steps: 2, pod: 'pod-1' });
    expect(await exited).toBe(0);
    expect(transportErrors.filter((m) => /SSE stream disconnected/.test(m)), 'the GET stream was ended, not cut').toEqual([]);
    expect(replica.output()).toMatch(/draining: \/readyz answers 503/);
    expect(replica.output()).toMatch(/no longer taking connections: \d+ answer\(s\) under way, 1 of them GET streams ended after their current event/);
    await client.close();
  });

  it('past --shutdown-timeout, cuts what is left, says so, and exits 1', async () => {
    const [pod] = await startPods(1);
    cleanups.push(() => pod!.kill());
    const replica = await spawnReplica({ backends: [pod!.url], shutdownDelayMs: 0, shutdownTimeoutMs: 300 });
    cleanups.push(() => replica.kill());
    const { client } = await connectClient(replica.url);
    cleanups.push(() => client.close());
    let progressed = false;
    const slow = client.callTool({ name: 'slow', arguments: { steps: 2, delayMs: 0, waitFor: 'never-opened' } }, undefined, {
      onprogress: () => {
        progressed = true;
      },
    });
    slow.catch(() => {}); // cut with its connection: the SDK is left waiting, and client.close() rejects it
    await until('the slow call under way', () => progressed);
    const exited = exitOf(replica);
    replica.child.kill('SIGTERM');
    expect(await exited).toBe(1);
    expect(replica.output()).toMatch(/"level":"error","msg":"shutdown timeout: 1 answer\(s\) still under way after 0.3 s \(--shutdown-timeout\) were cut"/);
  });

  it('a rolling restart of two replicas behind a round-robin front door, under load, costs clients nothing', async () => {
    const [redis, pods] = await Promise.all([startRedis(), startPods(2)]);
    cleanups.push(() => redis.close(), () => Promise.all(pods.map((p) => p.kill())));
    const replicas = await Promise.all(['replica-1', 'replica-2'].map((replicaId) => spawnReplica({
      backends: pods.map((p) => p.url), store: 'redis', redisUrl: redis.url, replicaId, shutdownDelayMs: 500, shutdownTimeoutMs: 10_000,
    })));
    cleanups.push(() => Promise.all(replicas.map((r) => r.kill())));
    const door = await startFrontDoor(replicas.map((r) => r.port));
    cleanups.push(() => door.close());

    const clients = await Promise.all(Array.from({ length: 4 }, async () => (await connectClient(door.url, undefined, door.fetch)).client));
    cleanups.push(() => Promise.all(clients.map((client) => client.close())));
    const errors: string[] = [];
    const counts: number[][] = clients.map(() => []);
    let running = true;
    const loops = clients.map(async (client, i) => {
      client.onerror = (error) => errors.push(`client ${i} transport: ${error.message}${error.cause ? ` (${String(error.cause)})` : ''}`);
      while (running) {
        try {
          counts[i]!.push((await call<{ count: number }>(client, 'counter')).count);
        } catch (error) {
          errors.push(`client ${i}: ${String(error)}${(error as Error).cause ? ` (${String((error as Error).cause)})` : ''}`);
          await sleep(50); // a client that fails at once must not starve the event loop
        }
      }
    });
    const calls = () => counts.reduce((sum, c) => sum + c.length, 0);

    const [first] = replicas as [ProxyProcess, ProxyProcess];
    let firstTook = 0;
    const drainedLogs: string[] = [];
    for (const replica of replicas) {
      const before = calls();
      await until('calls flowing', () => calls() >= before + 20);
      expect(await replica.stop('SIGTERM'), `${replica.url} drained and exited 0`).toBe(0);
      drainedLogs.push(replica.output());
      await replica.start();
      await until('the restarted replica ready at the front door', () => door.isReady(replica.port));
      if (replica === first) firstTook = door.connections(first.port);
    }
    const before = calls();
    await until('calls flowing after both restarts', () => calls() >= before + 20);
    running = false;
    await Promise.all(loops);

    const drains = drainedLogs.flatMap((output) => output.split('\n').filter((line) => /draining|no longer taking|shutdown timeout/.test(line)));
    expect(errors, `the drains said:\n${drains.join('\n')}`).toEqual([]);
    for (const [i, sequence] of counts.entries()) {
      expect(sequence.every((count, k) => count === k + 1), `client ${i}: its counter went on through both restarts (${sequence.length} calls)`).toBe(true);
    }
    // Kept-alive connections stay where they are: the clients moved to the first replica when the second drained.
    expect(door.connections(first.port), 'the first replica, restarted, took the clients of the second').toBeGreaterThan(firstTook);
    // And the front door sends new connections to both again.
    const ids = await Promise.all([0, 1].map(async () => {
      const connection = new UndiciClient('http://front-door', { connect: door.connect });
      try {
        return await (await connection.request({ path: '/readyz', method: 'GET' })).body.json();
      } finally {
        await connection.close();
      }
    }));
    expect(ids.map((body) => (body as { replica: string }).replica).sort()).toEqual(['replica-1', 'replica-2']);
  });
});
