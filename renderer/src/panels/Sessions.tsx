import { memo, useMemo, useState } from 'react';
import type { ClientView, LabSnapshot, SessionView } from '../../../app/state/snapshot.ts';
import { podLabel, podNameAt, shortId } from '../../../app/shared/names.ts';
import { LATE_WAIT_MS } from '../../../app/shared/call-outcome.ts';
import { isIdle, sessionlessClients } from '../model/clients.ts';
import { clock, count } from '../model/format.ts';
import { useLab, useServer } from '../state/context.tsx';
import { liveSessions } from '../topology/graph.ts';
import { EraBadge } from '../ui/EraBadge.tsx';
import { useNow } from '../ui/hooks.ts';
import { WaitingCalls } from '../ui/Waiting.tsx';
import { SessionTrace } from './SessionTrace.tsx';

/**
 * Rows drawn until the user asks for all: a person reads a few dozen, and a table of a
 * thousand live rows costs the page its frame rate (the topology draws every session anyway).
 */
const FIRST_ROWS = 60;

interface Props {
  selected: string | null;
  onSelect: (sessionId: string | null) => void;
}

/**
 * Every client session (legacy era): where it is pinned, what it went through; a row opens the
 * session's trace. Then the clients that call without a session (modern era): nothing to pin.
 */
export function Sessions({ selected, onSelect }: Props) {
  const { snapshot } = useLab();
  const server = useServer();
  // The count column is the demo's per-session counter: other servers have none.
  const counter = (server?.kind ?? 'demo') === 'demo';
  const [showEnded, setShowEnded] = useState(false);
  const [showAll, setShowAll] = useState(false);
  const all = useMemo(() => Object.values(snapshot.sessions), [snapshot.sessions]);
  const live = useMemo(() => new Set(liveSessions(snapshot.sessions).map((s) => s.id)), [snapshot.sessions]);
  const listed = showEnded ? all : all.filter((s) => live.has(s.id));
  const rows = (showAll ? listed : listed.slice(-FIRST_ROWS)).reverse();
  const ended = all.length - live.size;
  const session = selected ? snapshot.sessions[selected] : undefined;
  const now = useNow(1000);
  const everySessionless = useMemo(() => sessionlessClients(snapshot.clients, now, showEnded), [snapshot.clients, now, showEnded]);
  const sessionless = showAll ? everySessionless : everySessionless.slice(0, FIRST_ROWS);
  const hidden = listed.length - rows.length + everySessionless.length - sessionless.length;

  return (
    <section className="panel sessions-panel" aria-label="Sessions">
      <header className="panel-header">
        <h2>Sessions <span className="panel-count" data-testid="sessions-count">{live.size}</span></h2>
        {/* Every session is of the legacy era (2026-07-28 has none): said once here, not on each row. */}
        <EraBadge era="legacy" testId="sessions-era" />
        {everySessionless.length > 0 && (
          <span className="panel-hint" data-testid="sessionless-count">
            + {everySessionless.length} sessionless client{everySessionless.length === 1 ? '' : 's'} <EraBadge era="modern" />
          </span>
        )}
        <label className="panel-option" title={'Sessions deleted, or replaced by a newer one of the same client; clients idle for 10 s'
          + (snapshot.evicted ? `. The oldest ${snapshot.evicted} ended sessions are no longer kept.` : '')}>
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
                selected={s.id === selected} onSelect={onSelect} counter={counter} external={isExternal(snapshot, s)} />
            ))}
          </tbody>
        </table>
        {rows.length === 0 && (server?.sessions === false
          ? <Stateless name={server.name} calls={snapshot.totals.sessionless} />
          : sessionless.length === 0 && <p className="empty">No sessions yet. Start traffic, or connect your own client to the ingress.</p>)}
        {sessionless.length > 0 && <Sessionless clients={sessionless} now={now} />}
        {(hidden > 0 || showAll) && (
          <p className="empty more-rows">
            {showAll ? `all ${count(listed.length + everySessionless.length)} rows shown` : `the newest ${FIRST_ROWS} shown, and ${count(hidden)} more`}
            {' '}<button type="button" className="btn btn-small" data-testid="sessions-show-all" onClick={() => setShowAll(!showAll)}>
              {showAll ? `show the newest ${FIRST_ROWS}` : 'show all'}
            </button>
          </p>
        )}
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

/** Modern (2026-07-28) clients: no session, so no pin — each call went to whichever pod the service picked. */
function Sessionless({ clients, now }: { clients: ClientView[]; now: number }) {
  return (
    <table className="sessions-table sessionless-table" data-testid="sessionless-clients">
      <caption>
        Sessionless clients — no <code>Mcp-Session-Id</code>, nothing pinned: each call goes through the service to any pod
      </caption>
      <thead>
        <tr>
          <th>client</th>
          <th title="the pod that answered its last call">last pod</th>
          <th className="num" title="calls made (the lab's own clients), or requests routed (external ones)">calls</th>
          <th className="num" title="calls that failed">errors</th>
          <th className="num" title="handles it was handed on one pod that failed on another">leaks</th>
          <th className="num">last seen</th>
        </tr>
      </thead>
      <tbody>
        {clients.map((c) => (
          <tr key={c.name} className={isIdle(c, now) ? 'is-ended' : ''} data-testid={`sessionless-row-${c.name}`}>
            <td>{c.name} <EraBadge era={c.era} />{!c.simulated && <span className="badge" title="a client from outside the lab, named by its clientInfo">external</span>}</td>
            <td>{c.lastPod ?? '—'}</td>
            <td className="num">{count(c.calls)}</td>
            <td className={`num${c.errors ? ' text-bad' : ''}`}>{count(c.errors)}</td>
            <td className={`num${c.leaks ? ' text-bad' : ''}`}>{count(c.leaks)}</td>
            <td className="num mono card-dim">{clock(c.lastSeen)}</td>
          </tr>
        ))}
      </tbody>
    </table>
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
  /** Its client came from outside the lab (or is not known yet). */
  external: boolean;
}

function isExternal(snapshot: LabSnapshot, session: SessionView): boolean {
  return session.client === null || snapshot.clients[session.client]?.simulated === false;
}

const Row = memo(function Row({ session: s, pod, podDead, ended, selected, onSelect, counter, external }: RowProps) {
  return (
    <tr className={`${selected ? 'is-selected' : ''}${ended ? ' is-ended' : ''}`} data-testid={`session-row-${s.id}`} onClick={() => onSelect(selected ? null : s.id)}
      onKeyDown={(e) => e.key === 'Enter' && onSelect(selected ? null : s.id)} tabIndex={0} aria-selected={selected}>
      <td className="mono" title={s.id}>{shortId(s.id)}</td>
      <td className="client-cell">
        {s.client === null ? <span className="card-dim">external</span> : (
          // An external client's name can be long: cut, in full on hover, so the numbers stay in view.
          <span className="client-name" title={external ? `${s.client}: a client from outside the lab, named by its clientInfo` : s.client}>{s.client}</span>
        )}
        {s.client !== null && external && <span className="badge" title="a client from outside the lab, named by its clientInfo">ext</span>}
      </td>
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
