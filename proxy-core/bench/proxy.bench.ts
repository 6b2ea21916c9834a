// `npm run bench:proxy`: what the proxy costs, side by side with going straight to the pods and
// with HAProxy, on the machine it runs on. Every row gets fresh pods (the reference MCP server,
// server-everything) and a fresh target, warmed up, then runs each session count in turn with
// the same closed-loop load of `tools/call echo`; the proxy's CPU time (and Redis's) is read
// from the kernel over the measured window. `--help` for the options.
import { availableParallelism, cpus } from 'node:os';
import type { Redis } from 'ioredis';
import { startRedis, type TestRedis } from '../test/redis.ts';
import { canPin, cpuOf, pin } from './cpu.ts';
import { haproxyInstalled } from './haproxy.ts';
import { hungPodWait, probeCost } from './health-costs.ts';
import { closedLoop, openSessions, warmUp, type LoadResult } from './load.ts';
import { parseBenchOptions, ROW_WARMUP_MAX_MS, type BenchOptions, type RowKind } from './options.ts';
import { formatTable, type Cell } from './table.ts';
import { startPod, startTarget, usesRedis, type BenchPod, type Target } from './targets.ts';

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

/** A cell that could not be measured, and why (no why: HAProxy is not installed). */
function unmeasured(row: RowKind, sessions: number, failure?: string): Cell {
  return { row, sessions, result: null, ...(failure === undefined ? {} : { failure }), proxyCpuUs: null, redisCpuUs: null, redisCommands: null };
}

/**
 * One row: fresh pods and a fresh target, warmed up first (a freshly started Node proxy costs
 * up to twice as much per request as one whose JIT has run some 50,000 requests, and a proxy in
 * production runs for hours), then each session count in turn on the same target.
 */
async function runRow(row: RowKind, options: BenchOptions, redis: TestRedis | null, layout: Layout | null): Promise<Cell[]> {
  const pods: BenchPod[] = [];
  let target: Target | null = null;
  try {
    pods.push(...(await Promise.all(Array.from({ length: options.pods }, () => startPod(options.podServer)))));
    target = await startTarget(row, pods, options.workers, redis);
    if (layout) pin(target.pids, row === 'workers' ? layout.proxy : layout.proxyOne);
    const urls = target.url ? [target.url] : pods.map((p) => p.url);
    // At the largest session count: the most requests per second, the shortest warm-up.
    const warm = await openSessions(urls, Math.max(...options.sessions));
    try {
      const done = await warmUp(warm.sessions, options.rowWarmupRequests, ROW_WARMUP_MAX_MS);
      process.stderr.write(`  ${row}: warmed up by ${done.requests} requests in ${(done.ms / 1000).toFixed(1)} s\n`);
    } finally {
      await warm.close();
    }
  } catch (error) {
    // A row that cannot run (a proxy that does not start) leaves the others to compare.
    const failure = (error as Error).message.split('\n')[0]!;
    process.stderr.write(`  ${row}: failed: ${failure}\n`);
    await target?.close();
    await Promise.all(pods.map((p) => p.kill()));
    return options.sessions.map((sessions) => unmeasured(row, sessions, failure));
  }
  const cells: Cell[] = [];
  try {
    for (const sessions of options.sessions) {
      try {
        const cell = await runCell(row, sessions, target, pods, options, redis);
        process.stderr.write(`  ${row} × ${sessions}: ${cell.result!.rps.toFixed(0)} req/s\n`);
        cells.push(cell);
      } catch (error) {
        const failure = (error as Error).message.split('\n')[0]!;
        process.stderr.write(`  ${row} × ${sessions}: failed: ${failure}\n`);
        cells.push(unmeasured(row, sessions, failure));
      }
    }
  } finally {
    await target.close();
    await Promise.all(pods.map((p) => p.kill()));
  }
  return cells;
}

/** One row at one session count, on the row's warm target: new sessions, the load, the counters. */
async function runCell(row: RowKind, sessions: number, target: Target, pods: readonly BenchPod[], options: BenchOptions, redis: TestRedis | null): Promise<Cell> {
  const withRedis = usesRedis(row);
  if (withRedis) await redis!.client.flushall();
  const opened = await openSessions(target.url ? [target.url] : pods.map((p) => p.url), sessions);
  try {
    const pids = target.pids;
    let cpuBefore = 0;
    let redisBefore = { cpu: 0, commands: 0 };
    let cpuUs = 0;
    let redisAfter = { cpu: 0, commands: 0 };
    const result: LoadResult = await closedLoop(opened.sessions, options.warmupMs, options.measureMs, {
      open: async () => {
        if (withRedis) redisBefore = await redisCounters(redis!.client);
        cpuBefore = cpuOf(pids);
      },
      close: async () => {
        cpuUs = cpuOf(pids) - cpuBefore;
        if (withRedis) redisAfter = await redisCounters(redis!.client);
      },
    });
    const per = (total: number) => (result.requests > 0 ? total / result.requests : NaN);
    return {
      row, sessions, result,
      proxyCpuUs: pids.length > 0 ? per(cpuUs) : null,
      redisCpuUs: withRedis ? per(redisAfter.cpu - redisBefore.cpu) : null,
      redisCommands: withRedis ? per(redisAfter.commands - redisBefore.commands) : null,
    };
  } finally {
    await opened.close();
  }
}

async function run(options: BenchOptions): Promise<void> {
  const cores = availableParallelism();
  const layout = layoutFor(cores, options.rows.includes('workers') ? options.workers : 1);
  if (layout) pin([process.pid], layout.rest); // the load generator; what it spawns inherits it
  const needsRedis = options.rows.some(usesRedis);
  const redis = needsRedis ? await startRedis() : null;
  const cells: Cell[] = [];
  try {
    if (redis && layout) pin([await redisPid(redis.client)], layout.redis);
    for (const row of options.rows) {
      if (row === 'haproxy' && !haproxyInstalled()) cells.push(...options.sessions.map((sessions) => unmeasured(row, sessions)));
      else cells.push(...(await runRow(row, options, redis, layout)));
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
    `${options.pods} pod(s) of ${options.podServer === 'everything' ? 'server-everything (Streamable HTTP, SSE answers)' : 'the stub pod (a fixed SSE answer: the proxy runs out of CPU before the pods)'} started fresh for every row;`,
    `each row's target (fresh too) warmed up by ${options.rowWarmupRequests} requests (${Math.max(...options.sessions)} sessions; ${ROW_WARMUP_MAX_MS / 1000} s at most) before its first session count, so that the JIT has done its work as in a long-running proxy;`,
    `then for each session count: new sessions, ${options.warmupMs / 1000} s of load, ${options.measureMs / 1000} s measured.`,
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
