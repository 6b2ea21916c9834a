// What the bench measures: the pods of a row, and the target the load goes through (nothing
// for direct, HAProxy, the bare Node pass-through, the floor studies, or pinlab-proxy itself).
import { startEverything } from '../test/everything.ts';
import { killChild, spawnNode } from '../test/processes.ts';
import type { TestRedis } from '../test/redis.ts';
import { spawnReplica } from '../test/replicas.ts';
import { processTree } from './cpu.ts';
import { startHaproxy } from './haproxy.ts';
import type { BenchOptions, RowKind } from './options.ts';

/** A pod of the bench: its MCP URL and process. */
export interface BenchPod {
  url: string;
  pid: number;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startPod(kind: BenchOptions['podServer']): Promise<BenchPod> {
  if (kind === 'everything') return startEverything('streamableHttp');
  return spawned('proxy-core/bench/stub-pod.ts', []);
}

/** A script that says `listening on <url>` when it is ready. */
async function spawned(script: string, args: string[]): Promise<BenchPod> {
  const { child, line } = await spawnNode(script, args, / listening on /);
  return { url: line.split(' listening on ')[1]!.trim(), pid: child.pid!, kill: (signal) => killChild(child, signal) };
}

/** What a row's target is while it runs: where the load goes, and whose CPU is counted. */
export interface Target {
  url: string | null;
  /** The proxy's processes (a `--workers` proxy: its primary and workers); none for direct. */
  pids: number[];
  /** Ends it and waits; `signal` SIGINT lets a Node target exit cleanly, so that `node --cpu-prof` writes its profile. */
  close(signal?: NodeJS.Signals): Promise<void>;
}

/** The Node pass-throughs without MCP logic: the bare one, and the floor studies of floor/. */
const SCRIPTS: Partial<Record<RowKind, string>> = {
  bare: 'proxy-core/bench/bare-proxy.ts',
  'lean-upstream': 'proxy-core/bench/floor/lean-upstream.ts',
  'lean-server': 'proxy-core/bench/floor/lean-server.ts',
  lean: 'proxy-core/bench/floor/lean.ts',
};

/** The rows that put Redis behind the proxy. */
export function usesRedis(row: RowKind): boolean {
  return row === 'redis' || row === 'workers';
}

export async function startTarget(row: RowKind, pods: readonly BenchPod[], workers: number, redis: TestRedis | null): Promise<Target> {
  const backends = pods.map((p) => p.url);
  if (row === 'direct') return { url: null, pids: [], close: async () => {} };
  if (row === 'haproxy') {
    const haproxy = await startHaproxy(backends);
    return { url: haproxy.url, pids: [haproxy.pid], close: haproxy.close };
  }
  const script = SCRIPTS[row];
  if (script) {
    const pass = await spawned(script, backends);
    return { url: pass.url, pids: [pass.pid], close: pass.kill };
  }
  const store = usesRedis(row) ? 'redis' : 'memory';
  const replica = await spawnReplica(
    { backends, store, redisUrl: redis?.url ?? '', replicaId: `bench-${row}`, storeRequired: store === 'redis' },
    row === 'workers' ? ['--workers', String(workers)] : [],
  );
  return { url: replica.url, pids: processTree(replica.child.pid!), close: async (signal) => void (signal ? await replica.stop(signal) : await replica.kill()) };
}
