// `node proxy-core/bench/steady-state.ts --row lean --sessions 16,64 [--warmup 100000] [--windows 6]
// [--window 1.5] [--pod-server stub]`: one row's CPU per request, user and system apart, over
// several back-to-back windows on one target warmed up by `--warmup` requests — for comparing
// rows at steady state on a noisy machine (medians and ranges), where the bench
// (proxy.bench.ts) gives one figure a cell. `--warmup 0 --windows 20 --window 1` shows the
// JIT's warm-up curve instead.
import { parseArgs } from 'node:util';
import { startRedis } from '../test/redis.ts';
import { cpuTimesOf, type CpuTimes } from './cpu.ts';
import { closedLoop, NO_WINDOW, openSessions, warmUp } from './load.ts';
import { POD_SERVERS, ROWS, type BenchOptions, type RowKind } from './options.ts';
import { startPod, startTarget, usesRedis, type BenchPod, type Target } from './targets.ts';

const { values } = parseArgs({
  options: {
    row: { type: 'string' }, sessions: { type: 'string', default: '16' }, warmup: { type: 'string', default: '100000' },
    windows: { type: 'string', default: '6' }, window: { type: 'string', default: '1.5' }, 'pod-server': { type: 'string', default: 'stub' },
  },
});
const row = values.row as RowKind;
const podServer = values['pod-server'] as BenchOptions['podServer'];
if (!(ROWS as readonly string[]).includes(row) || row === 'direct') throw new Error(`--row: one of ${ROWS.filter((r) => r !== 'direct').join(', ')}`);
if (!(POD_SERVERS as readonly string[]).includes(podServer)) throw new Error(`--pod-server: one of ${POD_SERVERS.join(', ')}`);
const sessionCounts = values.sessions.split(',').map(Number);
const [warmupRequests, windows, windowMs] = [Number(values.warmup), Number(values.windows), Number(values.window) * 1000];

/** One window's figures: µs per request. */
interface Figures extends CpuTimes {
  rps: number;
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const summary = (xs: number[]) => `${median(xs).toFixed(1)} [${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}]`;

const redis = usesRedis(row) ? await startRedis() : null;
const pods: BenchPod[] = await Promise.all([1, 2].map(() => startPod(podServer)));
let target: Target | null = null;
try {
  target = await startTarget(row, pods, 2, redis);
  const pids = target.pids;
  let warm = warmupRequests;
  for (const count of sessionCounts) {
    const opened = await openSessions([target.url!], count);
    const done = await warmUp(opened.sessions, warm, 60_000);
    console.log(`${row} × ${count}: warmed up by ${done.requests} requests in ${(done.ms / 1000).toFixed(1)} s`);
    warm = 5_000; // the target is warm now: the next count only settles its connections
    const figures: Figures[] = [];
    for (let i = 0; i < windows; i++) {
      const before = cpuTimesOf(pids);
      const result = await closedLoop(opened.sessions, 0, windowMs, NO_WINDOW);
      const after = cpuTimesOf(pids);
      if (result.errors > 0) throw new Error(`${result.errors} errors, first: ${result.firstError}`);
      figures.push({ user: (after.user - before.user) / result.requests, sys: (after.sys - before.sys) / result.requests, rps: result.rps });
    }
    await opened.close();
    const each = figures.map((f) => `${f.user.toFixed(1)}+${f.sys.toFixed(1)}@${f.rps.toFixed(0)}`).join(' ');
    console.log(`${row} × ${count}: µs/req user+sys@req/s per window: ${each}`);
    console.log(`  median [range]: user ${summary(figures.map((f) => f.user))}  sys ${summary(figures.map((f) => f.sys))}  total ${summary(figures.map((f) => f.user + f.sys))}  req/s ${summary(figures.map((f) => f.rps))}`);
  }
} finally {
  await target?.close();
  await Promise.all(pods.map((p) => p.kill()));
  await redis?.close();
}
