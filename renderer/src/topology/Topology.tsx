import { useEffect, useMemo, useState, type CSSProperties } from 'react';
import { useLab, useServer } from '../state/context.tsx';
import { useWidth } from '../ui/hooks.ts';
import { PodCard, ReplicaCard } from './Cards.tsx';
import { buildGraph, type TopologyGraph } from './graph.ts';
import { Headings } from './Headings.tsx';
import { layoutTopology, type TopologyLayout } from './layout.ts';

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

interface Props {
  selected: string | null;
  onSelect: (sessionId: string | null) => void;
}

/** The hero: clients → ingress → proxy replicas → session store → service → pods, one line per session. */
export function Topology({ selected, onSelect }: Props) {
  const view = useLab();
  const stateless = useServer()?.sessions === false;
  const [ref, width] = useWidth<HTMLDivElement>();
  const graph = useMemo(() => buildGraph(view.snapshot, view.status ?? null, { pinning: view.activity.pinning, seen: view.activity.seen, now: Date.now() }), [view]);
  const layout = useMemo(() => layoutTopology(graph, width), [graph, width]);
  const now = performance.now();
  useSettle(now, view.activity);

  return (
    <section className="panel topology-panel" aria-label="Topology">
      <header className="panel-header">
        <h2>Topology</h2>
        <p className="panel-hint">
          Each line is one MCP session: client → ingress → the replica that served it last → the pod it is pinned to. It flashes on each request
          and glides to a new pod when a recovery re-pins it. Kill a pod and watch.
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

function pulses(graph: TopologyGraph, routed: ReadonlyMap<string, number>, now: number) {
  const lit: { session: TopologyGraph['sessions'][number]; at: number }[] = [];
  for (const session of graph.sessions) {
    const at = routed.get(session.id);
    if (at !== undefined && now - at <= PULSE_MS) lit.push({ session, at });
  }
  return lit.length <= MAX_PULSES ? lit : lit.sort((a, b) => b.at - a.at).slice(0, MAX_PULSES);
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
  const hueOf = new Map(graph.sessions.map((s) => [s.client, s.hue]));
  return (
    <svg className="lines" width={layout.width} height={layout.height} role="img" aria-label={`${graph.sessions.length} sessions`}>
      <rect className={`band band-store${storeDown ? ' is-down' : ''}`} x={layout.storeBand.x} y={layout.storeBand.y} width={layout.storeBand.w} height={layout.storeBand.h} rx={10} />
      <rect className="band band-service" x={layout.serviceBand.x} y={layout.serviceBand.y} width={layout.serviceBand.w} height={layout.serviceBand.h} rx={10} />
      {graph.links.map((link) => (
        <path key={link.id} className={`link link-${link.kind}${link.up ? '' : ' is-down'}`} d={layout.links.get(link.id)} />
      ))}
      {graph.clients.length === 0 && (
        <text className="empty-lines" x={layout.columns.clients.x} y={layout.lanes.y + layout.lanes.h / 2}>
          <tspan x={layout.columns.clients.x}>{stateless ? 'stateless server:' : 'no sessions yet:'}</tspan>
          <tspan x={layout.columns.clients.x} dy={15}>{stateless ? 'no sessions to draw' : 'start traffic'}</tspan>
        </text>
      )}
      {graph.sessions.map((session) => {
        const d = layout.sessionPaths.get(session.id)!;
        const moved = now - (activity.moved.get(session.id) ?? -Infinity) < MOVED_MS;
        const className = ['session', session.broken && 'is-broken', session.pod === null && 'is-service', moved && 'is-moved', selected === session.id && 'is-selected']
          .filter(Boolean).join(' ');
        // CSS `d` (not the attribute) so that a changed path, a re-pinned session, glides instead of jumping.
        const style = { d: `path("${d}")`, '--h': session.hue } as CSSProperties;
        return (
          <path key={session.id} className={className} style={style} data-session={session.id} onClick={() => onSelect(selected === session.id ? null : session.id)}>
            <title>{`session ${session.id}${BROKEN[session.broken ?? 'none']}`}</title>
          </path>
        );
      })}
      {pulses(graph, activity.routed, now).map(({ session, at }) => (
        // Faded by age at each render, not by a CSS animation: an animation repaints the whole drawing 60 times a second.
        <path key={session.id} className="pulse" d={layout.sessionPaths.get(session.id)} style={{ '--h': session.hue, opacity: 1 - (now - at) / PULSE_MS } as CSSProperties} />
      ))}
      {graph.clients.map((client) => {
        const at = layout.clients.get(client.id)!;
        return (
          <g key={client.id} className={`client${client.external ? ' is-external' : ''}`}>
            <circle cx={at.x} cy={at.y} r={layout.clientLabels ? 4 : 2.5} style={{ '--h': hueOf.get(client.id) ?? 0 } as CSSProperties} />
            {layout.clientLabels && (
              <text x={at.x - 9} y={at.y + 4} textAnchor="end">
                {client.label}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}
