// `npm run bench:proxy`: what the proxy costs. tools/call throughput and latency at 1, 16
// and 64 concurrent sessions, straight to the pods (the limit), through one pinlab-proxy
// with the memory store, and with the Redis store; plus Redis commands per proxied request.
// Then what health probes cost a pod, and how long a hung pinned pod makes the client's next
// call wait with the default probes.
// Everything runs on this machine: the load generator, the proxy, the demo pods, Redis.
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { startPods, type TestPod } from '../test/pods.ts';
import { startRedis, type TestRedis } from '../test/redis.ts';
import { spawnReplica, type ProxyProcess } from '../test/replicas.ts';

const CONCURRENCY = [1, 16, 64];
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 1000);
const MEASURE_MS = Number(process.env.BENCH_MEASURE_MS ?? 4000);
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };
const CALL = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello' } } });
const INIT = JSON.stringify({
  jsonrpc: '2.0', id: 0, method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'pinlab-bench', version: '0' } },
});

interface Cell {
  target: string;
  sessions: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  redisPerRequest?: number;
}

/** Opens a session on `url` (initialize + initialized) through `pool`. */
async function openSession(pool: Pool, path: string): Promise<string> {
  const init = await pool.request({ path, method: 'POST', headers: HEADERS, body: INIT });
  await init.body.text();
  const id = init.headers['mcp-session-id'];
  if (typeof id !== 'string') throw new Error(`initialize answered ${init.statusCode} without a session`);
  const done = await pool.request({ path, method: 'POST', headers: { ...HEADERS, 'mcp-session-id': id }, body: '{"jsonrpc":"2.0","method":"notifications/initialized"}' });
  await done.body.dump();
  return id;
}

/** Each session calls in a loop; latencies are kept only inside the measured window. */
async function load(sessions: { pool: Pool; path: string; id: string }[], onMeasureStart: () => Promise<void>) {
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  let stop = false;
  const loops = sessions.map(async ({ pool, path, id }) => {
    const headers = { ...HEADERS, 'mcp-session-id': id };
    while (!stop) {
      const started = performance.now();
      try {
        const response = await pool.request({ path, method: 'POST', headers, body: CALL });
        const text = await response.body.text();
        if (response.statusCode !== 200 || !text.includes('"result"')) errors++;
      } catch {
        errors++;
      }
      if (measuring) latencies.push(performance.now() - started);
    }
  });
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  await onMeasureStart();
  measuring = true;
  const started = performance.now();
  await new Promise((r) => setTimeout(r, MEASURE_MS));
  measuring = false;
  const elapsed = (performance.now() - started) / 1000;
  const count = latencies.length;
  stop = true;
  await Promise.all(loops);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(count - 1, Math.floor(q * count))] ?? NaN;
  return { rps: count / elapsed, p50: at(0.5), p99: at(0.99), errors, requests: count };
}

async function commandCalls(redis: TestRedis): Promise<number> {
  const stats = await redis.client.info('commandstats');
  let total = 0;
  for (const match of stats.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
    if (match[1] !== 'info') total += Number(match[2]);
  }
  return total;
}

async function run(): Promise<void> {
  const [redis, pods] = await Promise.all([startRedis(), startPods(2)]);
  const proxies: ProxyProcess[] = [];
  const cells: Cell[] = [];
  try {
    const backends = pods.map((p: TestPod) => p.url);
    const memory = await spawnReplica({ backends, store: 'memory', replicaId: 'bench-memory' });
    const shared = await spawnReplica({ backends, store: 'redis', redisUrl: redis.url, replicaId: 'bench-redis' });
    proxies.push(memory, shared);
    const targets: { name: string; urls: string[]; redis?: boolean }[] = [
      { name: 'direct to pods', urls: backends },
      { name: 'pinlab-proxy, memory store', urls: [memory.url] },
      { name: 'pinlab-proxy, redis store', urls: [shared.url], redis: true },
    ];
    for (const target of targets) {
      for (const n of CONCURRENCY) {
        const pools = target.urls.map((u) => ({ pool: new Pool(new URL(u).origin, { connections: n, pipelining: 1 }), path: new URL(u).pathname }));
        const sessions = await Promise.all(Array.from({ length: n }, async (_, i) => {
          const { pool, path } = pools[i % pools.length]!;
          return { pool, path, id: await openSession(pool, path) };
        }));
        let before = 0;
        const result = await load(sessions, async () => {
          if (target.redis) before = await commandCalls(redis);
        });
        const cell: Cell = { target: target.name, sessions: n, rps: result.rps, p50: result.p50, p99: result.p99, errors: result.errors };
        // Commands counted over the warm-up too would need the warm-up's requests: count the
        // measured window only, from a snapshot taken when it opened to one when it closed.
        if (target.redis) cell.redisPerRequest = (await commandCalls(redis) - before) / result.requests;
        cells.push(cell);
        process.stderr.write(`  ${target.name} × ${n}: ${result.rps.toFixed(0)} req/s\n`);
        await Promise.all(pools.map(({ pool }) => pool.close()));
      }
    }
  } finally {
    await Promise.all(proxies.map((p) => p.kill()));
    await Promise.all(pods.map((p) => p.kill()));
    await redis.close();
  }
  print(cells);
  await probeCost();
  await hungPodWait();
}

/** A process's CPU time so far (user + system), in milliseconds; null where /proc is not there. */
function cpuMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in ticks of 1/100 s
  } catch {
    return null;
  }
}

/** Pod CPU per health probe (OPTIONS on the MCP path, one kept-alive connection, as a replica sends them), and per echo call for scale. */
async function probeCost(): Promise<void> {
  const [pod] = await startPods(1);
  const count = 5000;
  try {
    const url = new URL(pod!.url);
    const pool = new Pool(url.origin, { connections: 1 });
    const id = await openSession(pool, url.pathname);
    const measure = async (send: () => Promise<void>) => {
      const before = cpuMs(pod!.pid);
      const latencies: number[] = [];
      for (let i = 0; i < count; i++) {
        const started = performance.now();
        await send();
        latencies.push(performance.now() - started);
      }
      const after = cpuMs(pod!.pid);
      latencies.sort((a, b) => a - b);
      return { cpuUs: before === null || after === null ? NaN : ((after - before) * 1000) / count, p50: latencies[Math.floor(count / 2)]! };
    };
    const probe = await measure(async () => {
      await (await pool.request({ path: url.pathname, method: 'OPTIONS', headers: { 'user-agent': 'pinlab-proxy health probe' } })).body.dump();
    });
    const call = await measure(async () => {
      await (await pool.request({ path: url.pathname, method: 'POST', headers: { ...HEADERS, 'mcp-session-id': id }, body: CALL })).body.text();
    });
    await pool.close();
    console.log(`\nhealth probe cost on a demo pod (${count} of each, one kept-alive connection):`);
    console.log(`  probe (OPTIONS ${url.pathname}): ${probe.cpuUs.toFixed(0)} µs of pod CPU, p50 ${probe.p50.toFixed(2)} ms`);
    console.log(`  tools/call echo, for scale:  ${call.cpuUs.toFixed(0)} µs of pod CPU, p50 ${call.p50.toFixed(2)} ms`);
    console.log(`  at 1 probe/s per replica: ${((probe.cpuUs / 1e6) * 100).toFixed(3)} % of one core per replica`);
  } finally {
    await pod!.kill();
  }
}

/** With the default probes (1 s interval, 1 s timeout, unhealthy after 2): a client's call sent just after its pod froze. */
async function hungPodWait(): Promise<void> {
  const pods = await startPods(3);
  const replica = await spawnReplica({ backends: pods.map((p) => p.url), store: 'memory', replicaId: 'bench-health' });
  const rounds = 5;
  const waits: number[] = [];
  let errors = 0;
  try {
    const url = new URL(replica.url);
    for (let round = 0; round < rounds; round++) {
      const pool = new Pool(url.origin, { connections: 2 });
      const id = await openSession(pool, url.pathname);
      const headers = { ...HEADERS, 'mcp-session-id': id };
      const send = async (body: string) => (await pool.request({ path: url.pathname, method: 'POST', headers, body })).body.text();
      await send('{"jsonrpc":"2.0","id":1,"method":"tools/list"}'); // whoami is read-only: replayed if it was under way
      const whoami = '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"whoami","arguments":{}}}';
      const pinned = podNamed(await send(whoami));
      const pod = pods.find((p) => p.name === pinned)!;
      pod.pause();
      const started = performance.now();
      const answer = await send(whoami);
      waits.push(performance.now() - started);
      if (!answer.includes('"result"') || podNamed(answer) === pod.name) errors++;
      pod.resume();
      await pool.close();
      await new Promise((r) => setTimeout(r, 1500)); // one answered probe: healthy again
    }
  } finally {
    await replica.kill();
    for (const pod of pods) pod.resume();
    await Promise.all(pods.map((p) => p.kill()));
  }
  waits.sort((a, b) => a - b);
  console.log(`\nhung pinned pod (SIGSTOP), default probes: the next call answered after ${waits.map((w) => (w / 1000).toFixed(2)).join(', ')} s (${rounds} rounds), client errors ${errors}`);
}

/** The pod a whoami answer names. */
function podNamed(answer: string): string | undefined {
  return /\\"pod\\":\\"(pod-\d+)\\"/.exec(answer)?.[1];
}

function print(cells: Cell[]): void {
  const direct = new Map(cells.filter((c) => c.target === 'direct to pods').map((c) => [c.sessions, c]));
  const rows = cells.map((c) => {
    const base = direct.get(c.sessions)!;
    const isDirect = c === base;
    return [
      c.target, String(c.sessions), c.rps.toFixed(0), isDirect ? '—' : `${((100 * c.rps) / base.rps).toFixed(0)} %`,
      c.p50.toFixed(2), c.p99.toFixed(2), isDirect ? '—' : `${(c.p50 - base.p50 >= 0 ? '+' : '')}${(c.p50 - base.p50).toFixed(2)}`,
      c.redisPerRequest === undefined ? '—' : c.redisPerRequest.toFixed(2), String(c.errors),
    ];
  });
  const header = ['target', 'sessions', 'req/s', 'of direct', 'p50 ms', 'p99 ms', 'added p50 ms', 'redis cmds/req', 'errors'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\ntools/call (echo) over Streamable HTTP (SSE answers); ${MEASURE_MS / 1000} s measured per row after ${WARMUP_MS / 1000} s warm-up; node ${process.version}\n`);
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

await run();
