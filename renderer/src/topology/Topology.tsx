import { memo, useEffect, useMemo, useRef, useState, type CSSProperties, type MouseEvent } from 'react';
import { sessionlessFlows } from '../state/apply.ts';
import { useLab, useServer } from '../state/context.tsx';
import { useWidth } from '../ui/hooks.ts';
import { PodCard, ReplicaCard } from './Cards.tsx';
import { BUNDLE_ABOVE, buildGraph, bundleId, type ClientNode, type SessionEdge, type TopologyGraph } from './graph.ts';
import { Headings } from './Headings.tsx';
import { bundlePaths, fanPaths, focusPath, layoutKey, layoutTopology, type TopologyLayout } from './layout.ts';

const BROKEN = {
  none: '',
  dead: ' — pinned to a dead pod: its next request re-initializes it on another',
  unhealthy: ' — pinned to a pod that stopped answering its health probes: its next request re-initializes it on another',
} as const;

/** How long a routed request lights its line, and a recovery highlights the moved one. */
const PULSE_MS = 450;
const MOVED_MS = 2500;
/** Past this many lit at once every line is lit and a flash says nothing: the newest ones only. */
const MAX_PULSES = 40;
/** How often fading fans are drawn again while no event comes. */
const FADE_TICK_MS = 1000;

interface Props {
  selected: string | null;
  onSelect: (sessionId: string | null) => void;
}

/** The hero: clients → ingress → proxy replicas → session store → service → pods, one line per session. */
export function Topology({ selected, onSelect }: Props) {
  const view = useLab();
  const stateless = useServer()?.sessions === false;
  const [ref, width] = useWidth<HTMLDivElement>();
  const now = performance.now();
  const [fading, setFading] = useState(false);
  const tick = useTick(fading ? FADE_TICK_MS : null);
  const graph = useMemo(() => buildGraph(view.snapshot, view.status ?? null, {
    pinning: view.activity.pinning, seen: view.activity.seen, now: Date.now(), sessionless: sessionlessFlows(view.activity, Math.max(view.at, tick)),
  }), [view, tick]);
  // Fans fade as sessionless requests stop: drawn again now and then until they are gone, whether events come or not.
  if (fading !== graph.fans.length > 0) setFading(graph.fans.length > 0);
  const layout = useKeptLayout(graph, width);
  useSettle(now, view.activity);

  return (
    <section className="panel topology-panel" aria-label="Topology">
      <header className="panel-header">
        <h2>Topology</h2>
        <p className="panel-hint">
          Each line is one MCP session: client → ingress → the replica that served it last → the pod it is pinned to. It flashes on each request
          and glides to a new pod when a recovery re-pins it. Kill a pod and watch. Requests without a session (2026-07-28) fan out from a
          replica over the pods the service chose, dashed: nothing pins them. Past {BUNDLE_ABOVE} sessions the lines are bundled per replica → pod
          with their count; select a session, or hover a client's dot, to see its own.
        </p>
      </header>
      <div className="topology" ref={ref} style={{ height: layout.height }}>
        {width > 0 && (
          <>
            <Lines graph={graph} layout={layout} selected={selected} onSelect={onSelect} activity={view.activity} now={now} stateless={stateless} />
            <Headings graph={graph} layout={layout} scale={view.status ? { replicas: view.status.config.replicas, pods: view.status.config.pods } : null} />
            <div className="card ingress-card" style={{ left: layout.ingress.x, top: layout.ingress.y, width: layout.ingress.w, height: layout.ingress.h }}
              title="The lab's front door: spreads requests over the proxy replicas by its affinity policy">
              <strong className="mono">{graph.ingress.address?.replace(/^.*:/, ':') ?? ''}</strong>
              <span className="card-dim small">{graph.ingress.affinity ?? ''}</span>
            </div>
            {graph.replicas.map((replica) => (
              <ReplicaCard key={replica.id} replica={replica} box={layout.replicas.get(replica.id)!} density={layout.density} />
            ))}
            {graph.pods.map((pod) => (
              <PodCard key={pod.name} pod={pod} box={layout.pods.get(pod.name)!} density={layout.density} />
            ))}
            {layout.hiddenNote && (
              <div className="hidden-note" style={{ left: layout.hiddenNote.x, top: layout.hiddenNote.y }}>
                +{graph.hiddenDeadPods} older dead pod{graph.hiddenDeadPods === 1 ? '' : 's'} not shown
              </div>
            )}
          </>
        )}
      </div>
    </section>
  );
}

/**
 * The layout, kept while what it depends on stays the same: cards then get the same boxes
 * and skip their render, and a thousand client dots are not drawn again.
 */
function useKeptLayout(graph: TopologyGraph, width: number): TopologyLayout {
  const kept = useRef<{ key: string; layout: TopologyLayout } | null>(null);
  const key = layoutKey(graph, width);
  if (kept.current?.key !== key) kept.current = { key, layout: layoutTopology(graph, width) };
  return kept.current.layout;
}

/** The page clock every `ms` (null: stopped), to draw again what changes with time alone. */
function useTick(ms: number | null): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (ms === null) return;
    const timer = setInterval(() => setTick(performance.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return tick;
}

/** One more render once the last flash and glide are over, in case no event comes to cause one. */
function useSettle(now: number, activity: { routed: ReadonlyMap<string, number>; moved: ReadonlyMap<string, number> }) {
  const [, setTick] = useState(0);
  let until = -Infinity;
  for (const t of activity.routed.values()) until = Math.max(until, t + PULSE_MS);
  for (const t of activity.moved.values()) until = Math.max(until, t + MOVED_MS);
  const wait = until - now;
  useEffect(() => {
    if (!(wait > 0)) return;
    const timer = setTimeout(() => setTick((n) => n + 1), wait + 20);
    return () => clearTimeout(timer);
  }, [now, wait]);
}

/** What was routed within PULSE_MS, newest first past MAX_PULSES: sessions' own lines, or bundles when bundled. */
function pulses(graph: TopologyGraph, sessions: ReadonlyMap<string, SessionEdge>, routed: ReadonlyMap<string, number>, now: number) {
  const bundled = graph.bundles.length > 0;
  const lit = new Map<string, { id: string; hue: number | null; at: number }>();
  for (const [id, at] of routed) {
    const session = sessions.get(id);
    if (!session || now - at > PULSE_MS) continue;
    const key = bundled ? bundleId(session) : id;
    if ((lit.get(key)?.at ?? -Infinity) < at) lit.set(key, { id: key, hue: bundled ? null : session.hue, at });
  }
  const list = [...lit.values()];
  return list.length <= MAX_PULSES ? list : list.sort((a, b) => b.at - a.at).slice(0, MAX_PULSES);
}

interface LinesProps {
  graph: TopologyGraph;
  layout: TopologyLayout;
  selected: string | null;
  onSelect: (sessionId: string | null) => void;
  activity: { routed: ReadonlyMap<string, number>; moved: ReadonlyMap<string, number> };
  now: number;
  /** The server issues no sessions: no line will ever be drawn, and that is no fault. */
  stateless: boolean;
}

function Lines({ graph, layout, selected, onSelect, activity, now, stateless }: LinesProps) {
  const storeDown = graph.store.kind === 'redis' && graph.store.up === false;
  const bundled = graph.bundles.length > 0;
  const [hovered, setHovered] = useState<string | null>(null);
  const sessions = useMemo(() => new Map(graph.sessions.map((s) => [s.id, s])), [graph]);
  const byClient = useMemo(() => new Map(graph.sessions.map((s) => [s.client, s])), [graph]);
  const bundles = useMemo(() => (bundled ? bundlePaths(graph, layout) : null), [bundled, graph, layout]);
  const fans = useMemo(() => fanPaths(graph, layout), [graph, layout]);
  const hues = useMemo(() => new Map(graph.sessions.map((s) => [s.client, s.hue])), [graph]);
  // Bundled, a session still gets its own line while it is selected, or its client's dot hovered.
  const focused = bundled ? [...new Set([selected && sessions.get(selected), hovered && byClient.get(hovered)])].filter((s): s is SessionEdge => Boolean(s)) : [];
  const pathOf = (id: string) => (bundled ? bundles?.get(id)?.d : layout.sessionPaths.get(id));
  const sessionsLabel = `${graph.sessions.length} sessions${bundled ? `, drawn as ${graph.bundles.length} bundles` : ''}${graph.fans.length ? ', and requests without a session' : ''}`;
  return (
    <>
      <svg className="lines" width={layout.width} height={layout.height} role="img" aria-label={sessionsLabel}>
        <rect className={`band band-store${storeDown ? ' is-down' : ''}`} x={layout.storeBand.x} y={layout.storeBand.y} width={layout.storeBand.w} height={layout.storeBand.h} rx={10} />
        <rect className="band band-service" x={layout.serviceBand.x} y={layout.serviceBand.y} width={layout.serviceBand.w} height={layout.serviceBand.h} rx={10} />
        {graph.links.map((link) => (
          <path key={link.id} className={`link link-${link.kind}${link.up ? '' : ' is-down'}`} d={layout.links.get(link.id)} />
        ))}
        {graph.clients.length === 0 && graph.fans.length === 0 && (
          <text className="empty-lines" x={layout.columns.clients.x} y={layout.lanes.y + layout.lanes.h / 2}>
            <tspan x={layout.columns.clients.x}>{stateless ? 'stateless server:' : 'no sessions yet:'}</tspan>
            <tspan x={layout.columns.clients.x} dy={15}>{stateless ? 'no sessions to draw' : 'start traffic'}</tspan>
          </text>
        )}
        {graph.fans.map((fan) => {
          const path = fans.get(fan.id);
          return path && (
            <g key={fan.id} className="fan" data-fan={fan.id}>
              <path d={path.d} style={{ strokeWidth: path.width }}>
                <title>{`requests without a session through ${fan.replica} to ${fan.pod ?? 'the service'}: ${Math.round(fan.share * 100)}% of that replica's lately — the service spreads them, nothing pins them`}</title>
              </path>
            </g>
          );
        })}
        {layout.funnel && <path className="funnel" d={layout.funnel} />}
        {bundles && graph.bundles.map((bundle) => {
          const path = bundles.get(bundle.id)!;
          return (
            <g key={bundle.id} className={`bundle${bundle.broken ? ' is-broken' : ''}${bundle.pod === null ? ' is-service' : ''}`} data-bundle={bundle.id}>
              <path d={path.d} style={{ strokeWidth: path.width }}>
                <title>{`${bundle.sessions} sessions last through ${bundle.replica ?? 'a replica that is gone'}, pinned to ${bundle.pod ?? 'the service'}${BROKEN[bundle.broken ?? 'none']}. Select one in the session list, or hover a client, to see its own line.`}</title>
              </path>
              <text x={path.label.x} y={path.label.y} textAnchor="end">{bundle.sessions}</text>
            </g>
          );
        })}
        {!bundled && graph.sessions.map((session) => (
          <SessionLine key={session.id} session={session} d={layout.sessionPaths.get(session.id)!} selected={selected === session.id} onSelect={onSelect}
            moved={now - (activity.moved.get(session.id) ?? -Infinity) < MOVED_MS} />
        ))}
        {focused.map((session) => (
          <SessionLine key={session.id} session={session} d={focusPath(session, layout)} selected={selected === session.id} onSelect={onSelect}
            moved={now - (activity.moved.get(session.id) ?? -Infinity) < MOVED_MS} />
        ))}
        {pulses(graph, sessions, activity.routed, now).map(({ id, hue, at }) => (
          // Faded by age at each render, not by a CSS animation: an animation repaints the whole drawing 60 times a second.
          <path key={id} className={`pulse${hue === null ? ' is-bundle' : ''}`} d={pathOf(id)}
            style={{ '--h': hue ?? 0, opacity: 1 - (now - at) / PULSE_MS, strokeWidth: bundled ? bundles?.get(id)?.width : undefined } as CSSProperties} />
        ))}
      </svg>
      <ClientDots clients={graph.clients} layout={layout} hues={hues} onHover={bundled ? setHovered : null} />
    </>
  );
}

interface SessionLineProps {
  session: SessionEdge;
  d: string;
  selected: boolean;
  moved: boolean;
  onSelect: (sessionId: string | null) => void;
}

/** One session's line; the graph makes its edge anew each time, so it is compared by what is drawn. */
const SessionLine = memo(function SessionLine({ session, d, selected, moved, onSelect }: SessionLineProps) {
  const className = ['session', session.broken && 'is-broken', session.pod === null && 'is-service', moved && 'is-moved', selected && 'is-selected']
    .filter(Boolean).join(' ');
  // CSS `d` (not the attribute) so that a changed path, a re-pinned session, glides instead of jumping.
  const style = { d: `path("${d}")`, '--h': session.hue } as CSSProperties;
  return (
    <path className={className} style={style} data-session={session.id} onClick={() => onSelect(selected ? null : session.id)}>
      <title>{`session ${session.id}${BROKEN[session.broken ?? 'none']}`}</title>
    </path>
  );
}, (a, b) => a.d === b.d && a.selected === b.selected && a.moved === b.moved && a.onSelect === b.onSelect
  && a.session.id === b.session.id && a.session.hue === b.session.hue && a.session.broken === b.session.broken && a.session.pod === b.session.pod);

interface ClientDotsProps {
  clients: readonly ClientNode[];
  layout: TopologyLayout;
  hues: ReadonlyMap<string, number>;
  /** Bundled: hovering a dot draws its session's own line. */
  onHover: ((client: string | null) => void) | null;
}

const DOT_R = { labelled: 4, dots: 2.5 } as const;

/**
 * The clients' dots, painted on a canvas: a thousand SVG circles cost the browser a style,
 * layout and paint pass each on every frame; one canvas costs one image. Painted again only
 * when the layout changes (the set of clients is part of its key, and a client's hue is its id's).
 */
const ClientDots = memo(function ClientDots({ clients, layout, hues, onHover }: ClientDotsProps) {
  const ref = useRef<HTMLCanvasElement>(null);
  const area = { x: layout.columns.clients.x, y: layout.lanes.y, w: layout.columns.clients.w + 8, h: layout.lanes.h };
  const r = layout.clientLabels ? DOT_R.labelled : DOT_R.dots;
  useEffect(() => {
    const canvas = ref.current;
    const context = canvas?.getContext('2d');
    if (!canvas || !context) return;
    const scale = window.devicePixelRatio || 1;
    canvas.width = Math.ceil(area.w * scale);
    canvas.height = Math.ceil(area.h * scale);
    context.setTransform(scale, 0, 0, scale, -area.x * scale, -area.y * scale);
    // The same colours as the lines: the theme's saturation and lightness, the client's hue.
    const css = getComputedStyle(canvas);
    const [saturation, lightness] = [css.getPropertyValue('--line-s').trim() || '70%', css.getPropertyValue('--line-l').trim() || '42%'];
    context.strokeStyle = css.getPropertyValue('--text').trim() || '#000';
    context.lineWidth = 1.5;
    for (const client of clients) {
      const at = layout.clients.get(client.id)!;
      context.beginPath();
      context.arc(at.x, at.y, r, 0, 2 * Math.PI);
      context.fillStyle = `hsl(${hues.get(client.id) ?? 0} ${saturation} ${lightness})`;
      context.fill();
      if (client.external) context.stroke();
    }
  }, [clients, layout, hues, area.x, area.y, area.w, area.h, r]);
  const nearest = (event: MouseEvent<HTMLCanvasElement>): ClientNode | null => {
    const box = event.currentTarget.getBoundingClientRect();
    const x = event.clientX - box.left + area.x;
    const y = event.clientY - box.top + area.y;
    let best: ClientNode | null = null;
    let bestD = (r + 3) ** 2;
    for (const client of clients) {
      const at = layout.clients.get(client.id)!;
      const d = (at.x - x) ** 2 + (at.y - y) ** 2;
      if (d <= bestD) [best, bestD] = [client, d];
    }
    return best;
  };
  return (
    <>
      <canvas ref={ref} className="client-dots" style={{ left: area.x, top: area.y, width: area.w, height: area.h, pointerEvents: onHover ? 'auto' : 'none' }} data-testid="client-dots" data-clients={clients.length}
        onMouseMove={onHover ? (event) => {
          const client = nearest(event);
          event.currentTarget.title = client?.label ?? '';
          onHover(client?.id ?? null);
        } : undefined}
        onMouseLeave={onHover ? () => onHover(null) : undefined} />
      {layout.clientLabels && (
        <svg className="client-labels" width={layout.width} height={layout.height} aria-hidden="true">
          {clients.map((client) => {
            const at = layout.clients.get(client.id)!;
            return <text key={client.id} x={at.x - 9} y={at.y + 4} textAnchor="end">{client.label}</text>;
          })}
        </svg>
      )}
    </>
  );
}, (before, after) => before.layout === after.layout && before.onHover === after.onHover);
