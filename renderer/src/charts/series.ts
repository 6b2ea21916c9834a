import type { SeriesPoint } from '../../../app/state/snapshot.ts';

export interface ChartGeometry {
  /** Largest value drawn (the top of the y axis), rounded up to a readable number. */
  max: number;
  /** One x (0…width) and y (0…height, 0 at the top) per second that had calls. */
  points: { x: number; y: number; value: number; t: number }[];
}

/** Places a window of per-second points on a width × height area; seconds without calls are left out. */
export function chartGeometry(series: readonly SeriesPoint[], value: (p: SeriesPoint) => number, options: { now: number; windowS: number; width: number; height: number; floor?: number }): ChartGeometry {
  const { now, windowS, width, height, floor = 1 } = options;
  const from = now - windowS;
  const inWindow = series.filter((p) => p.t > from && p.t <= now);
  const max = niceCeiling(Math.max(floor, ...inWindow.map(value)));
  return {
    max,
    points: inWindow.map((p) => ({ t: p.t, value: value(p), x: ((p.t - from) / windowS) * width, y: height - (value(p) / max) * height })),
  };
}

/**
 * One point per second, in order. The reducer closes a second when a call of another second
 * lands, and calls are stamped when they start, so a slow call can reopen a second already
 * closed: its pieces are summed here (p50 weighted by calls, p99 the worst of them).
 */
export function mergeSeconds(series: readonly SeriesPoint[]): SeriesPoint[] {
  const byT = new Map<number, SeriesPoint>();
  for (const p of series) {
    const seen = byT.get(p.t);
    if (!seen) {
      byT.set(p.t, { ...p });
      continue;
    }
    const calls = seen.calls + p.calls;
    seen.p50 = calls ? Math.round(((seen.p50 * seen.calls + p.p50 * p.calls) / calls) * 100) / 100 : 0;
    seen.p99 = Math.max(seen.p99, p.p99);
    seen.calls = calls;
    seen.errors += p.errors;
  }
  return [...byT.values()].sort((a, b) => a.t - b.t);
}

/** 1, 2, 5, 10, 20, 50, …: an axis top a person reads at a glance. */
export function niceCeiling(n: number): number {
  if (n <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= n) return step * magnitude;
  return 10 * magnitude;
}

/** A polyline's `d`, broken where seconds are missing (no calls: nothing to say about latency). */
export function linePath(points: readonly { x: number; y: number; t: number }[]): string {
  let d = '';
  let last = -Infinity;
  for (const p of points) {
    d += `${p.t - last > 1 ? 'M' : 'L'} ${p.x.toFixed(1)} ${p.y.toFixed(1)} `;
    last = p.t;
  }
  return d.trim();
}
