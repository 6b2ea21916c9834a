import { useLab } from '../state/context.tsx';
import { count } from '../model/format.ts';

const CONNECTION = { live: 'live', connecting: 'connecting…', reconnecting: 'reconnecting…' } as const;

/** The lab's name, whether the UI is following it, and the four numbers that say how it is going. */
export function Header() {
  const { status, connection, snapshot } = useLab();
  const { totals } = snapshot;
  return (
    <header className="app-header">
      <div className="brand">
        <svg className="brand-mark" width="18" height="18" viewBox="0 0 18 18" aria-hidden="true">
          <path d="M3 9 C 8 9, 8 3, 15 3 M3 9 C 8 9, 8 15, 15 15" fill="none" stroke="currentColor" strokeWidth="1.8" />
          <circle cx="3" cy="9" r="2.2" fill="currentColor" />
          <circle cx="15" cy="3" r="2.2" fill="currentColor" />
          <circle cx="15" cy="15" r="2.2" fill="currentColor" />
        </svg>
        <span className="brand-name">Pinlab</span>
        <span className="brand-sub">horizontally scaled MCP, on this laptop</span>
      </div>
      <span className={`connection connection-${connection}`} data-testid="connection" title="The UI follows the lab's events live">
        <span className="dot" aria-hidden="true" /> {CONNECTION[connection]}
      </span>
      {status && <span className="lab-id mono" title="lab id">lab {status.id}</span>}
      <span className="grow" />
      {status && (
        <dl className="totals">
          <Total label="calls" value={count(totals.calls)} testId="calls-total" />
          <Total label="client errors" value={count(totals.clientErrors)} testId="client-errors-total" tone={totals.clientErrors ? 'bad' : 'good'}
            title="Calls that failed as the simulated clients saw them: what recovery exists to keep at zero" />
          <Total label="recoveries" value={count(totals.recoveries)} testId="recoveries-total" title="Sessions transparently re-initialized on another pod" />
          <Total label="state losses" value={count(totals.stateLosses)} testId="state-losses-total" tone={totals.stateLosses ? 'warn' : undefined}
            title="Calls whose session counter went back: the pod's per-session memory was lost on re-initialization" />
        </dl>
      )}
    </header>
  );
}

function Total({ label, value, testId, tone, title }: { label: string; value: string; testId: string; tone?: 'bad' | 'good' | 'warn'; title?: string }) {
  return (
    <div className={`total${tone ? ` tone-${tone}` : ''}`} title={title}>
      <dd data-testid={testId}>{value}</dd>
      <dt>{label}</dt>
    </div>
  );
}
