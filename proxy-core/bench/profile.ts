// `node proxy-core/bench/profile.ts [row] [sessions] [seconds]`: runs a Node row of the bench
// (memory or redis: pinlab-proxy; bare; the floor studies lean-upstream, lean-server, lean) under
// `node --cpu-prof` with the bench's load, in front of two stub pods (stub-pod.ts: cheap, so that
// the proxy is what runs out of CPU), then prints where its CPU went — self time by file and by
// function, inclusive time by function — from the profile V8 wrote. For finding the hot path,
// not for figures: the bench (proxy.bench.ts) gives those.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ROOT } from '../test/processes.ts';
import { startRedis } from '../test/redis.ts';
import { closedLoop, NO_WINDOW, openSessions } from './load.ts';
import { ROWS, type RowKind } from './options.ts';
import { startPod, startTarget, usesRedis } from './targets.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Rows whose target is one Node process. */
const PROFILED = ROWS.filter((row) => !['direct', 'haproxy', 'workers'].includes(row));
const [row = 'memory', sessionsArg = '16', secondsArg = '8'] = process.argv.slice(2) as [RowKind?, string?, string?];
if (!PROFILED.includes(row)) throw new Error(`row: expected one of ${PROFILED.join(', ')}, got "${row}"`);
const sessionCount = Number(sessionsArg);
const seconds = Number(secondsArg);
if (!(Number.isInteger(sessionCount) && sessionCount > 0) || !(seconds > 0)) throw new Error(`expected a session count and seconds above 0, got "${sessionsArg}" "${secondsArg}"`);
const dir = mkdtempSync(join(tmpdir(), 'pinlab-profile-'));
const redis = usesRedis(row) ? await startRedis() : null;
const pods = await Promise.all([1, 2].map(() => startPod('stub')));
// Only the proxy runs under the profiler: the variable is set for its spawn alone.
process.env.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${dir}`;
const target = await startTarget(row, pods, 1, redis);
delete process.env.NODE_OPTIONS;
try {
  const opened = await openSessions([target.url!], sessionCount);
  const result = await closedLoop(opened.sessions, 1000, seconds * 1000, NO_WINDOW);
  console.log(`${result.requests} requests, ${result.rps.toFixed(0)} req/s, errors ${result.errors}`);
  await opened.close();
  await target.close('SIGINT'); // a clean exit: V8 writes the profile
} finally {
  await target.close();
  await Promise.all(pods.map((p) => p.kill()));
  await redis?.close();
}
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no profile written in ${dir}`);
report(JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile);
rmSync(dir, { recursive: true, force: true });

function report(profile: Profile): void {
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url.startsWith('file://') ? relative(ROOT, url.slice(7)) : url || '(native)';
    const fn = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    const area = where.includes('node_modules/') ? where.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, '$1') : where.startsWith('node:') ? where.split('/')[0]! : where;
    byFile.set(area, (byFile.get(area) ?? 0) + us);
  }
  // Inclusive time: a function's own samples and those of everything it called.
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const inclusive = new Map<number, number>();
  const sum = (id: number): number => {
    const node = byId.get(id)!;
    const us = (self.get(id) ?? 0) + (node.children ?? []).reduce((acc, child) => acc + sum(child), 0);
    inclusive.set(id, us);
    return us;
  };
  sum(profile.nodes[0]!.id);
  const byFunctionTotal = new Map<string, number>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    if (!url.includes('/proxy-core/')) continue; // the repository's own functions: what each costs with what it calls
    const where = url.startsWith('file://') ? relative(ROOT, url.slice(7)) : url;
    const fn = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
    byFunctionTotal.set(fn, (byFunctionTotal.get(fn) ?? 0) + (inclusive.get(node.id) ?? 0));
  }
  const top = (map: Map<string, number>, n: number) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `  ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`).join('\n');
  console.log(`\nself time by file or package (${(total / 1e6).toFixed(2)} s sampled):\n${top(byFile, 25)}`);
  console.log(`\nself time by function:\n${top(byFunction, 40)}`);
  console.log(`\ninclusive time by proxy-core function:\n${top(byFunctionTotal, 30)}`);
}
