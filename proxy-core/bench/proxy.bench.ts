// `npm run bench:proxy`: what the proxy costs, side by side with going straight to the pods and
// with HAProxy, on the machine it runs on. Every row gets fresh pods (the reference MCP server,
// server-everything) and the same closed-loop load of `tools/call echo`; the proxy's CPU time
// (and Redis's) is read from the kernel over the measured window. `--help` for the options.
import { availableParallelism, cpus } from 'node:os';
import type { Redis } from 'ioredis';
import { startEverything } from '../test/everything.ts';
import { killChild, spawnNode } from '../test/processes.ts';
import { startRedis, type TestRedis } from '../test/redis.ts';
import { spawnReplica } from '../test/replicas.ts';
import { canPin, cpuOf, pin, processTree } from './cpu.ts';
import { haproxyInstalled, startHaproxy } from './haproxy.ts';
import { hungPodWait, probeCost } from './health-costs.ts';
import { closedLoop, openSession, poolFor, type LoadResult } from './load.ts';
import { parseBenchOptions, type BenchOptions, type RowKind } from './options.ts';
import { formatTable, type Cell } from './table.ts';

/** A pod of the bench: its MCP URL and process. */
interface BenchPod {
  url: string;
  pid: number;
  kill(): Promise<void>;
}

async function startPod(kind: BenchOptions['podServer']): Promise<BenchPod> {
  if (kind === 'everything') return startEverything('streamableHttp');
  return spawned('proxy-core/bench/stub-pod.ts', []);
}

/** A script of this folder that says `listening on <url>` when it is ready. */
async function spawned(script: string, args: string[]): Promise<BenchPod> {
  const { child, line } = await spawnNode(script, args, / listening on /);
  return { url: line.split(' listening on ')[1]!.trim(), pid: child.pid!, kill: () => killChild(child) };
}

/** What a row's target is while it runs: where the load goes, and whose CPU is counted. */
interface Target {
  url: string | null;
  /** The proxy's processes (a `--workers` proxy: its primary and workers); none for direct. */
  pids: number[];
  close(): Promise<void>;
}

/** Which cores what runs on; null when the machine has too few to keep the proxy's apart. */
interface Layout {
  /** The `--workers` row's cores; other proxies get the first of them. */
  proxy: string;
  proxyOne: string;
  redis: string;
  rest: string;
}

function layoutFor(cores: number, proxyCores: number): Layout | null {
  // The proxy's cores, one for Redis, and at least two for the load generator and the pods.
  if (cores < proxyCores + 3 || !canPin()) return null;
  const range = (from: number, to: number) => (from === to ? String(from) : `${from}-${to}`);
  return { proxy: range(0, proxyCores - 1), proxyOne: '0', redis: String(proxyCores), rest: range(proxyCores + 1, cores - 1) };
}

async function startTarget(row: RowKind, pods: readonly BenchPod[], options: BenchOptions, redis: TestRedis | null): Promise<Target> {
  const backends = pods.map((p) => p.url);
  if (row === 'direct') return { url: null, pids: [], close: async () => {} };
  if (row === 'haproxy') {
    const haproxy = await startHaproxy(backends);
    return { url: haproxy.url, pids: [haproxy.pid], close: haproxy.close };
  }
  if (row === 'bare') {
    const bare = await spawned('proxy-core/bench/bare-proxy.ts', backends);
    return { url: bare.url, pids: [bare.pid], close: bare.kill };
  }
  const store = row === 'memory' ? 'memory' : 'redis';
  const replica = await spawnReplica(
    { backends, store, redisUrl: redis?.url ?? '', replicaId: `bench-${row}`, storeRequired: store === 'redis' },
    row === 'workers' ? ['--workers', String(options.workers)] : [],
  );
  return { url: replica.url, pids: processTree(replica.child.pid!), close: replica.kill };
}

/** Redis's own CPU time so far (µs) and the commands it has run, `INFO` itself left out. */
async function redisCounters(client: Redis): Promise<{ cpu: number; commands: number }> {
  const [cpu, stats] = await Promise.all([client.info('cpu'), client.info('commandstats')]);
  const seconds = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(cpu)?.[1] ?? NaN);
  let commands = 0;
  for (const match of stats.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) if (match[1] !== 'info') commands += Number(match[2]);
  return { cpu: (seconds('used_cpu_sys') + seconds('used_cpu_user')) * 1e6, commands };
}

async function redisPid(client: Redis): Promise<number> {
  return Number(/process_id:(\d+)/.exec(await client.info('server'))?.[1]);
}

/** One row at one session count: fresh pods, a fresh target, the load, the counters. */
async function runCell(row: RowKind, sessions: number, options: BenchOptions, redis: TestRedis | null, layout: Layout | null): Promise<Cell> {
  const pods = await Promise.all(Array.from({ length: options.pods }, () => startPod(options.podServer)));
  const usesRedis = row === 'redis' || row === 'workers';
  let target: Target | null = null;
  const pools: ReturnType<typeof poolFor>[] = [];
  try {
    target = await startTarget(row, pods, options, redis);
    if (layout) pin(target.pids, row === 'workers' ? layout.proxy : layout.proxyOne);
    if (usesRedis) await redis!.client.flushall();
    const urls = target.url ? [target.url] : pods.map((p) => p.url);
    for (const url of urls) pools.push(poolFor(url, Math.ceil(sessions / urls.length)));
    const opened = await Promise.all(Array.from({ length: sessions }, (_, i) => {
      const { pool, path } = pools[i % pools.length]!;
      return openSession(pool, path);
    }));
    const pids = target.pids;
    let cpuBefore = 0;
    let redisBefore = { cpu: 0, commands: 0 };
    let cpuUs = 0;
    let redisAfter = { cpu: 0, commands: 0 };
    const result: LoadResult = await closedLoop(opened, options.warmupMs, options.measureMs, {
      open: async () => {
        if (usesRedis) redisBefore = await redisCounters(redis!.client);
        cpuBefore = cpuOf(pids);
      },
      close: async () => {
        cpuUs = cpuOf(pids) - cpuBefore;
        if (usesRedis) redisAfter = await redisCounters(redis!.client);
      },
    });
    const per = (total: number) => (result.requests > 0 ? total / result.requests : NaN);
    return {
      row, sessions, result,
      proxyCpuUs: pids.length > 0 ? per(cpuUs) : null,
      redisCpuUs: usesRedis ? per(redisAfter.cpu - redisBefore.cpu) : null,
      redisCommands: usesRedis ? per(redisAfter.commands - redisBefore.commands) : null,
    };
  } finally {
    await Promise.all(pools.map(({ pool }) => pool.close()));
    await target?.close();
    await Promise.all(pods.map((p) => p.kill()));
  }
}

async function run(options: BenchOptions): Promise<void> {
  const cores = availableParallelism();
  const layout = layoutFor(cores, options.rows.includes('workers') ? options.workers : 1);
  if (layout) pin([process.pid], layout.rest); // the load generator; what it spawns inherits it
  const needsRedis = options.rows.some((r) => r === 'redis' || r === 'workers');
  const redis = needsRedis ? await startRedis() : null;
  const cells: Cell[] = [];
  try {
    if (redis && layout) pin([await redisPid(redis.client)], layout.redis);
    for (const row of options.rows) {
      for (const sessions of options.sessions) {
        if (row === 'haproxy' && !haproxyInstalled()) {
          cells.push({ row, sessions, result: null, proxyCpuUs: null, redisCpuUs: null, redisCommands: null });
          continue;
        }
        try {
          const cell = await runCell(row, sessions, options, redis, layout);
          process.stderr.write(`  ${row} × ${sessions}: ${cell.result!.rps.toFixed(0)} req/s\n`);
          cells.push(cell);
        } catch (error) {
          // One row that cannot run (a proxy that does not start) leaves the others to compare.
          const failure = (error as Error).message.split('\n')[0]!;
          process.stderr.write(`  ${row} × ${sessions}: failed: ${failure}\n`);
          cells.push({ row, sessions, result: null, failure, proxyCpuUs: null, redisCpuUs: null, redisCommands: null });
        }
      }
    }
  } finally {
    await redis?.close();
  }
  console.log(`\n${describeRun(options, cores, layout)}\n`);
  console.log(formatTable(cells, options.workers));
  if (options.healthCosts) {
    await probeCost();
    await hungPodWait();
  }
}

function describeRun(options: BenchOptions, cores: number, layout: Layout | null): string {
  const lines = [
    `tools/call echo, closed loop (one call in flight per session; sessions opened with initialize + notifications/initialized over plain HTTP),`,
    `${options.pods} pod(s) of ${options.podServer === 'everything' ? 'server-everything (Streamable HTTP, SSE answers)' : 'the stub pod (a fixed SSE answer: the proxy runs out of CPU before the pods)'} started fresh for every row; ${options.measureMs / 1000} s measured after ${options.warmupMs / 1000} s warm-up.`,
    `Machine: ${cores} core(s) (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), node ${process.version}. HAProxy: one thread.`,
    layout
      ? `Pinned with taskset: each proxy on core ${layout.proxyOne} (--workers: ${layout.proxy}), Redis on ${layout.redis}, load generator and pods on ${layout.rest}.`
      : `Not pinned: ${cores} core(s) cannot keep the proxy's core(s) apart from Redis, the pods and the load generator (it takes the proxy's cores + 3${canPin() ? '' : ', and taskset'}); every process shares every core, so req/s and latency are the machine's, and CPU per request is the figure to compare.`,
    'CPU µs/req: utime+stime of the proxy\'s processes (/proc) over the measured window, per request; Redis\'s from INFO cpu; Redis commands from INFO commandstats.',
  ];
  return lines.join('\n');
}

const options = parseBenchOptions(process.argv.slice(2));
if (options) await run(options);
