import { spawnSync } from 'node:child_process';
import { Client as UndiciClient, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../app/net/free-port.ts';
import { answerOf, call, connectClient, MCP_HEADERS } from './test/client.ts';
import { until } from './test/lab.ts';
import { startPods } from './test/pods.ts';
import { ROOT } from './test/processes.ts';
import { startRedis } from './test/redis.ts';
import { spawnReplica } from './test/replicas.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

/** `tools/call name` on a new connection of its own, after asking that connection's worker who it is. */
async function onFreshConnection(url: string, sessionId: string, name: string): Promise<{ worker: number; status: number; result: Record<string, unknown> | undefined }> {
  const { origin, pathname } = new URL(url);
  const connection = new UndiciClient(origin);
  try {
    const health = await connection.request({ path: '/healthz', method: 'GET' });
    const { worker } = (await health.body.json()) as { worker: number };
    const answer = await connection.request({
      path: pathname, method: 'POST', headers: { ...MCP_HEADERS, 'mcp-session-id': sessionId },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name, arguments: {} } }),
    });
    const text = await answer.body.text();
    return { worker, status: answer.statusCode, result: answerOf(text).result?.structuredContent as Record<string, unknown> | undefined };
  } finally {
    await connection.close();
  }
}

/** The processes a `--workers` proxy forked (its workers), by parent pid. */
function workerPids(primary: number): number[] {
  const out = spawnSync('pgrep', ['-P', String(primary)], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter(Boolean).map(Number);
}

describe('pinlab-proxy --workers', () => {
  it('two workers on one port share sessions through Redis: follow-ups land on either worker and reach the session\'s pod, /metrics sums them, SIGTERM exits 0', async () => {
    const [redis, pods] = await Promise.all([startRedis(), startPods(2)]);
    cleanups.push(() => redis.close(), () => Promise.all(pods.map((p) => p.kill())));
    const metricsPort = await freePort();
    const replica = await spawnReplica(
      { backends: pods.map((p) => p.url), store: 'redis', redisUrl: redis.url, metricsPort, shutdownDelayMs: 100 },
      ['--workers', '2'],
    );
    cleanups.push(() => replica.kill());
    expect(workerPids(replica.child.pid!), 'a primary and two workers').toHaveLength(2);

    const { client, transport } = await connectClient(replica.url);
    cleanups.push(() => client.close());
    const { pod } = await call<{ pod: string }>(client, 'whoami');
    expect(await call(client, 'counter')).toMatchObject({ count: 1 });

    const workers = new Set<number>();
    for (let i = 0; i < 16; i++) {
      const answer = await onFreshConnection(replica.url, transport.sessionId!, 'whoami');
      expect(answer.status).toBe(200);
      expect(answer.result, 'every follow-up reaches the pod that served initialize').toMatchObject({ pod });
      workers.add(answer.worker);
    }
    expect([...workers].sort(), 'connections are spread over both workers').toEqual([1, 2]);
    // The pod kept the session's state whichever worker relayed the calls.
    expect(await call(client, 'counter')).toMatchObject({ count: 2 });

    const metrics = await (await request(`http://127.0.0.1:${metricsPort}/metrics`)).body.text();
    const answered = [...metrics.matchAll(/^pinlab_proxy_requests_total\{[^}]*status="200"[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    expect(answered, 'the calls of both workers, summed (initialize, tools/list, 2 counters, whoami × 17 at least)').toBeGreaterThanOrEqual(21);
    const onMcpPort = await request(`http://127.0.0.1:${replica.port}/metrics`);
    expect(onMcpPort.statusCode).toBe(404);
    expect(await onMcpPort.body.text()).toMatch(/with --workers, \/metrics is served by the primary on --metrics-port/);

    await client.close();
    const workerProcesses = workerPids(replica.child.pid!);
    expect(await replica.stop('SIGTERM')).toBe(0);
    expect(replica.output()).toMatch(/SIGTERM: draining 2 worker\(s\)/);
    for (const pid of workerProcesses) expect(() => process.kill(pid, 0), `worker ${pid} is gone`).toThrow();
  });

  it('a worker that dies is replaced, and sessions go on through the new one', async () => {
    const [redis, pods] = await Promise.all([startRedis(), startPods(1)]);
    cleanups.push(() => redis.close(), () => Promise.all(pods.map((p) => p.kill())));
    const replica = await spawnReplica({ backends: [pods[0]!.url], store: 'redis', redisUrl: redis.url, shutdownDelayMs: 0 }, ['--workers', '2']);
    cleanups.push(() => replica.kill());
    const { client, transport } = await connectClient(replica.url);
    cleanups.push(() => client.close());
    await call(client, 'whoami');

    const [victim] = workerPids(replica.child.pid!);
    process.kill(victim!, 'SIGKILL');
    await until('another worker started', () => {
      const now = workerPids(replica.child.pid!);
      return now.length === 2 && !now.includes(victim!);
    });
    await until('the new worker listens', () => /worker \d of 2 exited \(SIGKILL\): starting another/.test(replica.output()) && (replica.output().match(/ready on/g) ?? []).length >= 3);
    const workers = new Set<number>();
    for (let i = 0; i < 12; i++) {
      const answer = await onFreshConnection(replica.url, transport.sessionId!, 'whoami');
      expect(answer.status).toBe(200);
      workers.add(answer.worker);
    }
    expect([...workers].sort()).toEqual([1, 2]);
    expect(replica.child.exitCode, 'the primary stays up').toBeNull();
  });

  it('refuses the memory store with more than one worker: one line, exit 2', () => {
    const result = spawnSync(process.execPath, ['proxy-core/cli/bin.js', '--backend', 'http://127.0.0.1:1/mcp', '--workers', '2'], { cwd: ROOT, encoding: 'utf8', timeout: 15_000 });
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/option '--workers 2' needs a shared store: the memory store lives in one process.*Use --store redis, or --workers 1/);
  });

  it('exits 2 when Redis cannot be reached at start, rather than giving each worker a memory store of its own', async () => {
    const port = await freePort();
    const result = spawnSync(process.execPath, [
      'proxy-core/cli/bin.js', '--port', '0', '--backend', 'http://127.0.0.1:1/mcp', '--store', 'redis', '--redis-url', `redis://127.0.0.1:${port}`, '--workers', '2',
    ], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/Redis at redis:\/\/127\.0\.0\.1:\d+\/? is not reachable/);
  });
});
