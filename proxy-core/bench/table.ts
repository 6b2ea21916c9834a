// The bench's answer: one Markdown table, rows side by side, and the ratios the targets are
// stated in (added p50 over direct; CPU per request over HAProxy's at the same load).
import type { LoadResult } from './load.ts';
import { FLOOR_ROWS, type RowKind } from './options.ts';

/** One row at one session count; `result` null: the row could not run here (HAProxy not installed, or `failure`). */
export interface Cell {
  row: RowKind;
  sessions: number;
  result: LoadResult | null;
  /** Why the row could not run, when it was tried. */
  failure?: string;
  /** µs of the proxy's CPU per request; null where there is no proxy (direct). */
  proxyCpuUs: number | null;
  /** µs of Redis's CPU per request; null where Redis is not used. */
  redisCpuUs: number | null;
  redisCommands: number | null;
}

export const HEADER = [
  'target', 'sessions', 'req/s', 'p50 ms', 'p99 ms', 'added p50 ms', 'proxy CPU µs/req', 'Redis CPU µs/req', 'CPU vs HAProxy', 'Redis cmds/req', 'errors',
];

function label(row: RowKind, workers: number): string {
  switch (row) {
    case 'direct': return 'direct to pods';
    case 'haproxy': return 'HAProxy, stick table on the header';
    case 'bare': return 'bare Node pass-through (no MCP logic)';
    case 'lean-upstream': return 'floor study: bare, raw-socket upstream';
    case 'lean-server': return 'floor study: bare, raw-socket server';
    case 'lean': return 'floor study: raw sockets both sides';
    case 'memory': return 'pinlab-proxy, memory store';
    case 'redis': return 'pinlab-proxy, Redis store';
    case 'workers': return `pinlab-proxy --workers ${workers}, Redis store`;
  }
}

const fixed = (value: number | null | undefined, digits: number) => (value === null || value === undefined || Number.isNaN(value) ? '—' : value.toFixed(digits));

export function formatTable(cells: readonly Cell[], workers: number): string {
  const find = (row: RowKind, sessions: number) => cells.find((c) => c.row === row && c.sessions === sessions)?.result ?? null;
  const haproxyCpu = (sessions: number) => cells.find((c) => c.row === 'haproxy' && c.sessions === sessions)?.proxyCpuUs ?? null;
  const rows = cells.map((c) => {
    const name = label(c.row, workers);
    const r = c.result;
    if (!r) return [name, String(c.sessions), c.failure ? 'failed' : 'not installed', ...HEADER.slice(3).map(() => '—')];
    const direct = c.row === 'direct' ? null : find('direct', c.sessions);
    const added = direct ? r.p50 - direct.p50 : null;
    const yardstick = c.row === 'haproxy' ? null : haproxyCpu(c.sessions);
    const cpu = c.proxyCpuUs === null ? null : c.proxyCpuUs + (c.redisCpuUs ?? 0);
    return [
      name, String(c.sessions), fixed(r.rps, 0), fixed(r.p50, 2), fixed(r.p99, 2),
      added === null ? '—' : `${added >= 0 ? '+' : ''}${added.toFixed(2)}`,
      fixed(c.proxyCpuUs, 0), fixed(c.redisCpuUs, 0),
      cpu === null || yardstick === null ? '—' : `${(cpu / yardstick).toFixed(2)}×`,
      fixed(c.redisCommands, 2), String(r.errors),
    ];
  });
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  const failures = cells.flatMap((c) => {
    const where = `${label(c.row, workers)} × ${c.sessions}`;
    if (c.failure) return [`${where} failed: ${c.failure}`];
    return c.result?.firstError ? [`errors in ${where}, first: ${c.result.firstError}`] : [];
  });
  const floor = cells.some((c) => FLOOR_ROWS.includes(c.row))
    ? ['Floor studies (proxy-core/bench/floor/): the bare pass-through with undici, node:http\'s server, or both swapped for raw node:net sockets and a minimal HTTP/1.1 reader — what those parts cost, not proxies.']
    : [];
  const notes = [
    'CPU vs HAProxy: (proxy + Redis CPU per request) / HAProxy\'s at the same session count. Targets: ≤ 2× memory, ≤ 2.5× Redis; added p50 at 1 session ≤ 0.15 ms.',
    ...floor,
    ...failures,
  ];
  return [line(HEADER), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line), '', ...notes].join('\n');
}
