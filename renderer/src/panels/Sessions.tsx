import { memo, useMemo, useState } from 'react';
import type { LabSnapshot, SessionView } from '../../../app/state/snapshot.ts';
import { podLabel, podNameAt, shortId } from '../../../app/shared/names.ts';
import { LATE_WAIT_MS } from '../../../app/shared/call-outcome.ts';
import { count } from '../model/format.ts';
import { useLab, useServer } from '../state/context.tsx';
import { liveSessions } from '../topology/graph.ts';
import { WaitingCalls } from '../ui/Waiting.tsx';
import { SessionTrace } from './SessionTrace.tsx';

const MAX_ROWS = 300;

interface Props {
  selected: string | null;
  onSelect: (sessionId: string | null) => void;
}

/** Every client session: where it is pinned, what it went through. A row opens the session's trace. */
export function Sessions({ selected, onSelect }: Props) {
  const { snapshot } = useLab();
  const server = useServer();
  // The count column is the demo's per-session counter: other servers have none.
  const counter = (server?.kind ?? 'demo') === 'demo';
  const [showEnded, setShowEnded] = useState(false);
  const all = useMemo(() => Object.values(snapshot.sessions), [snapshot.sessions]);
  const live = useMemo(() => new Set(liveSessions(snapshot.sessions).map((s) => s.id)), [snapshot.sessions]);
  const rows = (showEnded ? all : all.filter((s) => live.has(s.id))).slice(-MAX_ROWS).reverse();
  const ended = all.length - live.size;
  const session = selected ? snapshot.sessions[selected] : undefined;

  return (
    <section className="panel sessions-panel" aria-label="Sessions">
      <header className="panel-header">
        <h2>Sessions <span className="panel-count">{live.size}</span></h2>
        <label className="panel-option" title="Sessions deleted, or replaced by a newer one of the same client">
          <input type="checkbox" checked={showEnded} onChange={(e) => setShowEnded(e.target.checked)} /> show ended ({ended})
        </label>
      </header>
      <div className="table-scroll">
        <table className="sessions-table">
          <thead>
            <tr>
              <th title="client session id: what the client sees (hover a row for the full id)">session</th>
              <th>client</th>
              <th title="backend session id: what the pod issued">backend</th>
              <th title="the pod the session is pinned to">pod</th>
              <th title="the proxy replica that served its last request">replica</th>
              <th className="num" title="requests routed">req</th>
              <th className="num" title={`its calls in flight now: how long the oldest has waited (and how many, when more than one); highlighted past ${LATE_WAIT_MS / 1000} s`}>wait</th>
              <th className="num" title="re-initializations on another pod">re-init</th>
              {counter && <th className="num" title="the session's counter, kept in its pod's memory">count</th>}
              <th className="num" title={counter ? 'calls whose counter went back: state lost' : 're-initializations: each loses what the pod kept for the session'}>lost</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((s) => (
              <Row key={s.id} session={s} pod={podLabel(snapshot.pods, s.pod)} podDead={isDead(snapshot, s)} ended={!live.has(s.id)}
                selected={s.id === selected} onSelect={onSelect} counter={counter} />
            ))}
          </tbody>
        </table>
        {rows.length === 0 && (server?.sessions === false
          ? <Stateless name={server.name} calls={snapshot.totals.sessionless} />
          : <p className="empty">No sessions yet. Start traffic, or connect your own client to the ingress.</p>)}
      </div>
      {session && <SessionTrace session={session} onClose={() => onSelect(null)} />}
    </section>
  );
}

/** A stateless server issues no `Mcp-Session-Id`: there is nothing to pin, and that is not a fault. */
function Stateless({ name, calls }: { name: string | null; calls: number }) {
  return (
    <p className="empty stateless-note" data-testid="sessions-stateless">
      <strong>{name ?? 'This server'} issues no sessions</strong> (it answers <code>initialize</code> without an <code>Mcp-Session-Id</code>): there is
      nothing to pin, so each call goes through the service to whichever pod it picks.
      {' '}<span data-testid="sessionless-calls">{count(calls)}</span> call{calls === 1 ? '' : 's'} so far went that way.
    </p>
  );
}

function isDead(snapshot: LabSnapshot, session: SessionView): boolean {
  const name = podNameAt(snapshot.pods, session.pod);
  return name !== undefined && snapshot.pods[name]!.state === 'dead';
}

interface RowProps {
  session: SessionView;
  pod: string;
  podDead: boolean;
  ended: boolean;
  selected: boolean;
  onSelect: (sessionId: string | null) => void;
  /** Show the demo's counter column. */
  counter: boolean;
}

const Row = memo(function Row({ session: s, pod, podDead, ended, selected, onSelect, counter }: RowProps) {
  return (
    <tr className={`${selected ? 'is-selected' : ''}${ended ? ' is-ended' : ''}`} data-testid={`session-row-${s.id}`} onClick={() => onSelect(selected ? null : s.id)}
      onKeyDown={(e) => e.key === 'Enter' && onSelect(selected ? null : s.id)} tabIndex={0} aria-selected={selected}>
      <td className="mono" title={s.id}>{shortId(s.id)}</td>
      <td>{s.client ?? <span className="card-dim">external</span>}</td>
      <td className="mono" title={s.backendSessionId ?? ''}>{shortId(s.backendSessionId)}</td>
      <td className={podDead ? 'text-bad' : ''} title={s.pod ?? ''}>{pod}</td>
      <td>{s.lastReplica ?? '—'}</td>
      <td className="num">{s.requests}</td>
      <td className="num"><WaitingCalls waiting={s.waiting} form="short" testId={`session-waiting-${s.id}`} /></td>
      <td className={`num${s.reinits ? ' text-warn' : ''}`}>{s.reinits}</td>
      {counter && <td className="num">{s.counter ?? '—'}</td>}
      <td className={`num${s.stateLost ? ' text-bad' : ''}`}>{s.stateLost}</td>
    </tr>
  );
});
