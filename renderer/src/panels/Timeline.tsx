import { useMemo, useState } from 'react';
import { describe, storyEvents, type EventKind } from '../../../app/shared/describe.ts';
import { sessionOf } from '../../../app/shared/names.ts';
import { clock } from '../model/format.ts';
import { useLab } from '../state/context.tsx';

const FILTERS: { kind: EventKind | 'all'; label: string }[] = [
  { kind: 'all', label: 'all' },
  { kind: 'sessions', label: 'sessions' },
  { kind: 'recoveries', label: 'recoveries' },
  { kind: 'pods', label: 'pods' },
  { kind: 'replicas', label: 'replicas' },
  { kind: 'redis', label: 'Redis' },
  { kind: 'errors', label: 'errors' },
];
const SHOWN = 200;
const TAG: Record<EventKind, string> = { sessions: 'session', recoveries: 'recovery', pods: 'pod', replicas: 'replica', redis: 'Redis', errors: 'error', lab: 'lab' };

/** The lab's recent events, newest first, each one sentence; a recovery is one line from loss to replay. */
export function Timeline({ onSelect }: { onSelect: (sessionId: string) => void }) {
  const { snapshot } = useLab();
  const [filter, setFilter] = useState<EventKind | 'all'>('all');
  const entries = useMemo(() => {
    const seen = new Map<string, number>();
    const described = storyEvents(snapshot.recent).map((event) => {
      // Events carry no id: time and type, numbered when they repeat, keep each entry's key stable.
      const base = `${event.at}:${event.type}`;
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      return { key: `${base}:${n}`, event, ...describe(event, snapshot.pods) };
    });
    return described.filter((e) => filter === 'all' || e.kinds.includes(filter)).slice(-SHOWN).reverse();
  }, [snapshot.recent, snapshot.pods, filter]);

  return (
    <section className="panel timeline-panel" aria-label="Timeline">
      <header className="panel-header">
        <h2>Timeline</h2>
        <div className="chips" role="radiogroup" aria-label="Show">
          {FILTERS.map((f) => (
            <button key={f.kind} type="button" role="radio" aria-checked={filter === f.kind} className={`chip${filter === f.kind ? ' is-current' : ''}`}
              onClick={() => setFilter(f.kind)} data-testid={`timeline-filter-${f.kind}`}>
              {f.label}
            </button>
          ))}
        </div>
      </header>
      <ol className="timeline" data-testid="timeline">
        {entries.map(({ key, event, text, tone, kinds }) => {
          const session = sessionOf(event);
          return (
            <li key={key} className={`timeline-entry tone-${tone}`} data-testid="timeline-entry" data-type={event.type}
              onClick={session ? () => onSelect(session) : undefined} title={session ? 'show this session' : undefined}>
              <span className="mono card-dim when">{clock(event.at)}</span>
              <span className={`kind kind-${kinds[0]}`}>{TAG[kinds[0]!]}</span>
              <span className="what">{text}</span>
            </li>
          );
        })}
        {entries.length === 0 && <li className="empty">Nothing {filter === 'all' ? '' : `under “${filter}” `}yet.</li>}
      </ol>
    </section>
  );
}
