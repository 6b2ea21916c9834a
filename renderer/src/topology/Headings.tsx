import type { CSSProperties, ReactNode } from 'react';
import { LIMITS } from '../../../app/config.ts';
import { ActionButton, useCommand } from '../ui/ActionButton.tsx';
import { Stepper } from '../ui/Stepper.tsx';
import type { TopologyGraph } from './graph.ts';
import type { Box, TopologyLayout } from './layout.ts';

/** Counts in a narrow heading: 1.2K rather than a cut-off "12…" (the exact one is in its tooltip). */
const COMPACT = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });

const place = (box: Box): CSSProperties => ({ left: box.x, top: box.y, width: box.w, height: box.h });

function Heading({ box, title, children }: { box: Box; title: string; children?: ReactNode }) {
  return (
    <div className="column-heading" style={{ left: box.x, width: box.w }}>
      <span className="column-title">{title}</span>
      {children}
    </div>
  );
}

/** The row above the lines: each column's name, the store's and the service's cards, the scaling steppers. */
export function Headings({ graph, layout, scale }: { graph: TopologyGraph; layout: TopologyLayout; scale: { replicas: number; pods: number } | null }) {
  const run = useCommand();
  // What the lab is asked to keep (its config follows every scaling), else what is up now.
  const liveReplicas = scale?.replicas ?? graph.replicas.filter((r) => r.state !== 'down').length;
  const livePods = scale?.pods ?? graph.pods.filter((p) => p.state !== 'dead').length;
  const externals = graph.clients.filter((c) => c.external).length;
  return (
    <>
      <Heading box={layout.columns.clients} title="clients">
        <span className="column-sub" title={`${graph.clients.length} clients: ${graph.clients.length - externals} simulated, ${externals} external`}>{COMPACT.format(graph.clients.length)}</span>
      </Heading>
      <Heading box={layout.columns.ingress} title="ingress" />
      <Heading box={layout.columns.replicas} title="proxy replicas">
        <Stepper label="proxy replicas" value={liveReplicas} min={LIMITS.replicas.min} max={LIMITS.replicas.max} busyKey="replicas.scale" testId="replicas-scale"
          onChange={(count) => void run('replicas.scale', 'replicas.scale', { count })} />
      </Heading>
      <Heading box={layout.columns.store} title="session store" />
      <StoreCard graph={graph} box={layout.store} />
      <Heading box={layout.columns.service} title="service" />
      <div className="card service-card" style={place(layout.service)} data-testid="service-card"
        title="The service: a connection made to it lands on one pod, chosen when it is dialled (like kube-proxy behind a ClusterIP)">
        <div className="card-row">
          <strong>{graph.service.endpoints}</strong> endpoint{graph.service.endpoints === 1 ? '' : 's'}
        </div>
        <div className="card-row card-dim">
          records pin:&nbsp;<b className={graph.service.pinning === 'service' ? 'text-bad' : 'text-good'}>{graph.service.pinning ?? '…'}</b>
        </div>
      </div>
      <Heading box={layout.columns.pods} title="pods">
        <Stepper label="pods" value={livePods} min={LIMITS.pods.min} max={LIMITS.pods.max} busyKey="pods.scale" testId="pods-scale"
          onChange={(count) => void run('pods.scale', 'pods.scale', { count })} />
      </Heading>
    </>
  );
}

function StoreCard({ graph, box }: { graph: TopologyGraph; box: Box }) {
  const run = useCommand();
  const { store } = graph;
  if (store.kind === 'memory') {
    return (
      <div className="card store-card state-memory" style={place(box)} data-testid="redis-card">
        <div className="card-row"><strong>memory</strong></div>
        <div className="card-row card-dim ellipsis">each replica keeps its own</div>
      </div>
    );
  }
  const state = store.up === null ? 'unknown' : store.up ? 'up' : 'down';
  const keys = store.keys === null ? null : `${store.keys} session key${store.keys === 1 ? '' : 's'}`;
  const title = [
    `session store (Redis${store.external ? ', external' : ''}): ${state}${store.reason ? ` — ${store.reason}` : ''}`,
    keys && `${keys}: the session records it holds now`,
    store.external && 'An external Redis is shared as it is: the lab does not stop, start or flush it.',
  ].filter(Boolean).join('\n');
  return (
    <div className={`card store-card state-${state}`} style={place(box)} data-testid="redis-card" title={title}>
      <div className="card-row">
        <strong>Redis</strong>
        <span className={`badge state-${state}`}>{state}</span>
        {store.external && <span className="badge" data-testid="redis-external">external</span>}
        <span className="grow" />
        {store.external ? null : store.up === false ? (
          <ActionButton small tone="primary" busyKey="redis" testId="redis-start" title="Start Redis again (empty: no persistence)" onClick={() => void run('redis', 'redis.start')}>
            start
          </ActionButton>
        ) : (
          <ActionButton small tone="danger" busyKey="redis" testId="redis-stop" title="Stop Redis: replicas keep serving the sessions they have copies of" onClick={() => void run('redis', 'redis.stop')}>
            stop
          </ActionButton>
        )}
        {!store.external && store.up !== false && (
          <ActionButton small busyKey="redis.flush" testId="redis-flush" title="Remove every session record from Redis: every session becomes unknown"
            onClick={() => void run('redis.flush', 'redis.flush')}>
            flush
          </ActionButton>
        )}
      </div>
      <div className="card-row card-dim small">
        {keys && <span className="store-keys" data-testid="redis-keys">{keys}</span>}
        {keys && store.reason && <span aria-hidden="true">·</span>}
        {(store.reason || !keys) && <span className="ellipsis" data-testid="redis-reason">{store.reason || '—'}</span>}
      </div>
    </div>
  );
}
