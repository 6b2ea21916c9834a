import type { SessionView } from '../../../app/state/snapshot.ts';
import { describe } from '../../../app/shared/describe.ts';
import { sessionOf } from '../../../app/shared/names.ts';
import { clock } from '../model/format.ts';
import { useLab } from '../state/context.tsx';
import { EraBadge } from '../ui/EraBadge.tsx';

/** One session's story: its events among the recent ones, oldest first. */
export function SessionTrace({ session, onClose }: { session: SessionView; onClose: () => void }) {
  const { snapshot } = useLab();
  const events = snapshot.recent.filter((event) => sessionOf(event) === session.id);
  return (
    <div className="session-trace" data-testid="session-trace">
      <header className="trace-header">
        <strong>trace of session <span className="mono">{session.id}</span></strong>
        <EraBadge era="legacy" testId="trace-era" />
        <span className="grow" />
        <button type="button" className="btn btn-small btn-plain" onClick={onClose} aria-label="Close the trace">✕</button>
      </header>
      <p className="card-dim">
        {session.client ?? 'external client'} · backend session <span className="mono">{session.backendSessionId ?? '—'}</span> · {session.requests} requests · {session.reinits} re-inits
        {session.deleted ? ' · deleted' : ''}
      </p>
      {events.length === 0 ? (
        <p className="empty">No notable event of this session among the lab's recent ones (routine requests are not kept).</p>
      ) : (
        <ol className="trace-list">
          {events.map((event, i) => {
            const { text, tone } = describe(event, snapshot.pods);
            return (
              <li key={i} className={`tone-${tone}`} data-testid="trace-entry">
                <span className="mono card-dim">{clock(event.at)}</span> <span className="kind">{event.type}</span> {text}
              </li>
            );
          })}
        </ol>
      )}
    </div>
  );
}
