import { useMemo } from 'react';
import type { SeriesPoint } from '../../../app/state/snapshot.ts';
import { useLab } from '../state/context.tsx';
import { useNow, useWidth } from '../ui/hooks.ts';
import { chartGeometry, linePath, mergeSeconds } from './series.ts';

const WINDOW_S = 300;
const HEIGHT = 96;

/** What the clients saw over the last five minutes: errors per second, and latency. */
export function Charts() {
  const { snapshot } = useLab();
  const now = Math.floor(useNow(1000) / 1000);
  const [ref, width] = useWidth<HTMLDivElement>();
  const series = useMemo(() => mergeSeconds(snapshot.series), [snapshot.series]);
  const last = series[series.length - 1];
  return (
    <section className="panel charts-panel" aria-label="Charts">
      <header className="panel-header">
        <h2>Clients' view</h2>
        <span className="panel-hint">last 5 minutes{last ? ` · now ${last.calls} calls/s` : ''}</span>
      </header>
      <div ref={ref} className="charts">
        {width > 0 && (
          <>
            <ErrorsChart series={series} now={now} width={width} />
            <LatencyChart series={series} now={now} width={width} />
          </>
        )}
      </div>
    </section>
  );
}

function Axis({ width, max, unit }: { width: number; max: number; unit: string }) {
  return (
    <g className="axis">
      <line x1={0} x2={width} y1={HEIGHT} y2={HEIGHT} />
      <line x1={0} x2={width} y1={0} y2={0} className="grid" />
      <line x1={0} x2={width} y1={HEIGHT / 2} y2={HEIGHT / 2} className="grid" />
      <text x={width - 2} y={11} textAnchor="end">{max} {unit}</text>
      {[5, 4, 3, 2, 1].map((m) => (
        <text key={m} x={((WINDOW_S - m * 60) / WINDOW_S) * width} y={HEIGHT + 12} textAnchor="middle">−{m}m</text>
      ))}
      <text x={width} y={HEIGHT + 12} textAnchor="end">now</text>
    </g>
  );
}

function ErrorsChart({ series, now, width }: { series: readonly SeriesPoint[]; now: number; width: number }) {
  const errors = chartGeometry(series, (p) => p.errors, { now, windowS: WINDOW_S, width, height: HEIGHT });
  const barW = Math.max(1.5, width / WINDOW_S);
  const total = errors.points.reduce((sum, p) => sum + p.value, 0);
  return (
    <figure className="chart" data-testid="chart-errors">
      <figcaption title={'Every call that failed as its client saw it: recoverable errors and calls answered "outcome unknown" alike (the header counts each).'}>
        client-visible errors / s <span className={total ? 'text-bad' : 'text-good'}>{total ? `${total} in this window` : 'none'}</span>
      </figcaption>
      <svg width={width} height={HEIGHT + 16} role="img" aria-label={`client-visible errors: ${total} in the last five minutes`}>
        <Axis width={width} max={errors.max} unit="/s" />
        {errors.points.filter((p) => p.value > 0).map((p) => (
          <rect key={p.t} className="bar-errors" x={p.x - barW} y={p.y} width={barW} height={HEIGHT - p.y} />
        ))}
      </svg>
    </figure>
  );
}

function LatencyChart({ series, now, width }: { series: readonly SeriesPoint[]; now: number; width: number }) {
  const p99 = chartGeometry(series, (p) => p.p99, { now, windowS: WINDOW_S, width, height: HEIGHT, floor: 10 });
  const p50 = chartGeometry(series, (p) => p.p50, { now, windowS: WINDOW_S, width, height: HEIGHT, floor: 10 });
  // One axis for both: p50 drawn on p99's scale.
  const scaled = p50.points.map((p) => ({ ...p, y: HEIGHT - (p.value / p99.max) * HEIGHT }));
  const last = series[series.length - 1];
  return (
    <figure className="chart" data-testid="chart-latency">
      <figcaption>
        latency <span className="legend legend-p50">p50{last ? ` ${last.p50} ms` : ''}</span> <span className="legend legend-p99">p99{last ? ` ${last.p99} ms` : ''}</span>
      </figcaption>
      <svg width={width} height={HEIGHT + 16} role="img" aria-label="latency p50 and p99 over the last five minutes">
        <Axis width={width} max={p99.max} unit="ms" />
        <path className="line-p99" d={linePath(p99.points)} />
        <path className="line-p50" d={linePath(scaled)} />
      </svg>
    </figure>
  );
}
