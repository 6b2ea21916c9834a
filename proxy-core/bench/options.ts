// The bench's command line: `npm run bench:proxy -- --duration 2 --sessions 16 --rows memory,haproxy`.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';

export const ROWS = ['direct', 'haproxy', 'bare', 'lean-upstream', 'lean-server', 'lean', 'memory', 'redis', 'workers'] as const;
/** Floor studies (floor/): what a Node pass-through costs without parts of Node's HTTP machinery. Not proxies: run when asked for. */
export const FLOOR_ROWS: readonly RowKind[] = ['lean-upstream', 'lean-server', 'lean'];
export const POD_SERVERS = ['everything', 'stub'] as const;
export type RowKind = (typeof ROWS)[number];
/** The row warm-up's bound in time, for pods too slow to serve its requests sooner. */
export const ROW_WARMUP_MAX_MS = 20_000;

export interface BenchOptions {
  rows: RowKind[];
  sessions: number[];
  /** Requests of load on a row's fresh target before its first session count (the JIT's warm-up), at most ROW_WARMUP_MAX_MS. */
  rowWarmupRequests: number;
  /** Load before each session count's measured window. */
  warmupMs: number;
  measureMs: number;
  /** Pods per row. */
  pods: number;
  /** server-everything, or a stub that answers for next to nothing (the proxy runs out of CPU first). */
  podServer: (typeof POD_SERVERS)[number];
  /** `--workers` of the workers row. */
  workers: number;
  /** Also measure what health probes cost a pod, and the wait a hung pod causes. */
  healthCosts: boolean;
}

const USAGE = `usage: npm run bench:proxy -- [options]
  --rows <list>       rows to run, comma-separated, of ${ROWS.join(', ')}
                      (default: all but the floor studies ${FLOOR_ROWS.join(', ')}: Node pass-throughs with
                      parts of node:http and undici swapped for raw sockets, to see what those cost; not proxies)
  --sessions <list>   concurrent sessions per row, comma-separated (default: 1,16,64)
  --duration <s>      seconds measured per row and session count (default: 4)
  --row-warmup <n>    requests of load on a row's fresh target before its first session count (default: 50000,
                      for ${ROW_WARMUP_MAX_MS / 1000} s at the most): a Node proxy costs up to twice as much per request until its JIT
                      has run that many, and one in production runs for hours
  --warmup <s>        seconds of load before each session count's measured window (default: 1)
  --pods <n>          pods per row (default: 2)
  --pod-server <kind> everything: the reference MCP server (default); stub: a pod that answers a fixed
                      echo result for next to nothing, so that the proxy, not the pods, runs out of CPU
  --workers <n>       --workers of the "workers" row (default: 4, or the machine's cores when fewer)
  --health-costs      then measure what health probes cost a pod, and how long a hung pod holds a call
  --help              this text`;

class BenchUsageError extends Error {}

function positive(flag: string, value: string, max: number, decimals = false): number {
  const n = Number(value);
  if (!(decimals ? /^\d+(\.\d+)?$/ : /^\d+$/).test(value.trim()) || n <= 0 || n > max) {
    throw new BenchUsageError(`${flag}: expected ${decimals ? 'seconds' : 'a whole number'} above 0 and at most ${max}, got "${value}"`);
  }
  return n;
}

function list(value: string): string[] {
  return value.split(',').map((v) => v.trim()).filter(Boolean);
}

function podServer(value: string): BenchOptions['podServer'] {
  if (!(POD_SERVERS as readonly string[]).includes(value)) throw new BenchUsageError(`--pod-server: expected ${POD_SERVERS.join(' or ')}, got "${value}"`);
  return value as BenchOptions['podServer'];
}

/** The options, or null after printing the help. Bad input: a one-line message naming the flag, and exit 2. */
export function parseBenchOptions(argv: string[]): BenchOptions | null {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        rows: { type: 'string' }, sessions: { type: 'string' }, duration: { type: 'string' }, warmup: { type: 'string' }, 'row-warmup': { type: 'string' },
        pods: { type: 'string' }, 'pod-server': { type: 'string' }, workers: { type: 'string' }, 'health-costs': { type: 'boolean' }, help: { type: 'boolean' },
      },
    });
    if (values.help) {
      console.log(USAGE);
      return null;
    }
    const rows = values.rows === undefined ? ROWS.filter((row) => !FLOOR_ROWS.includes(row)) : list(values.rows);
    for (const row of rows) if (!(ROWS as readonly string[]).includes(row)) throw new BenchUsageError(`--rows: unknown row "${row}"; rows are ${ROWS.join(', ')}`);
    const sessions = values.sessions === undefined ? [1, 16, 64] : list(values.sessions).map((s) => positive('--sessions', s, 1024));
    if (rows.length === 0 || sessions.length === 0) throw new BenchUsageError(`${rows.length === 0 ? '--rows' : '--sessions'}: empty list`);
    return {
      rows: rows as RowKind[],
      sessions,
      measureMs: 1000 * (values.duration === undefined ? 4 : positive('--duration', values.duration, 3600, true)),
      rowWarmupRequests: values['row-warmup'] === undefined ? 50_000 : positive('--row-warmup', values['row-warmup'], 10_000_000),
      warmupMs: 1000 * (values.warmup === undefined ? 1 : positive('--warmup', values.warmup, 3600, true)),
      pods: values.pods === undefined ? 2 : positive('--pods', values.pods, 64),
      podServer: podServer(values['pod-server'] ?? 'everything'),
      workers: values.workers === undefined ? Math.min(4, availableParallelism()) : positive('--workers', values.workers, 64),
      healthCosts: values['health-costs'] ?? false,
    };
  } catch (error) {
    // parseArgs's own errors (unknown option, missing value) are one line already.
    process.stderr.write(`error: ${(error as Error).message}\n${error instanceof BenchUsageError ? '' : `${USAGE}\n`}`);
    process.exit(2);
  }
}
