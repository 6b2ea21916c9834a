import type { ServerUnderTest } from '../../../app/server/under-test.ts';
import { useLab, useServer } from '../state/context.tsx';
import { EXPLAINED } from '../../../app/shared/call-outcome.ts';
import { count } from '../model/format.ts';

const CONNECTION = { live: 'live', connecting: 'connecting…', reconnecting: 'reconnecting…' } as const;

/** The lab's name, whether the UI is following it, and the numbers that say how it is going. */
export function Header() {
  const { status, connection, snapshot } = useLab();
  const server = useServer();
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
        {!status && <span className="brand-sub">horizontally scaled MCP, on this laptop</span>}
      </div>
      <span className={`connection connection-${connection}`} data-testid="connection" title="The UI follows the lab's events live">
        <span className="dot" aria-hidden="true" /> {CONNECTION[connection]}
      </span>
      {status && <span className="lab-id mono" title="lab id">lab {status.id}</span>}
      {status && <ServerName server={server} />}
      <span className="grow" />
      {status && (
        <dl className="totals">
          <Total label="calls" value={count(totals.calls)} testId="calls-total" />
          <Total label="recoverable errors" value={count(totals.recoverableErrors)} testId="recoverable-errors-total" tone={totals.recoverableErrors ? 'bad' : 'good'}
            title={EXPLAINED.recoverableErrors} />
          <Total label="outcome unknown" value={count(totals.unknownOutcome)} testId="unknown-outcome-total" tone={totals.unknownOutcome ? 'warn' : undefined}
            title={EXPLAINED.unknownOutcome} />
          {totals.handleLeaks > 0 && (
            <Total label="handle leaks" value={count(totals.handleLeaks)} testId="handle-leaks-total" tone="bad" title={EXPLAINED.handleLeaks} />
          )}
          <Total label="recoveries" value={count(totals.recoveries)} testId="recoveries-total" title="Sessions transparently re-initialized on another pod" />
          <Total label="state losses" value={count(totals.stateLosses)} testId="state-losses-total" tone={totals.stateLosses ? 'warn' : undefined}
            title={(server?.kind ?? 'demo') === 'demo'
              ? 'Calls whose session counter went back: the pod\'s per-session memory was lost on re-initialization'
              : 'Re-initializations: each starts the session afresh on a pod, losing whatever the server kept for it'} />
        </dl>
      )}
    </header>
  );
}

/** The MCP server the pods run, as the lab found it: name and version, how it runs, whether it issues sessions. */
function ServerName({ server }: { server: ServerUnderTest | null }) {
  if (!server) {
    return <span className="server-id card-dim" data-testid="server-name" title="The lab asks one pod what server it runs once the pods are up">identifying the server…</span>;
  }
  const name = server.name ? `${server.name}${server.version ? ` ${server.version}` : ''}` : server.error ? 'unidentified server' : 'identifying the server…';
  const title = [
    `Server under test: ${name}`,
    `runs as: ${server.source}${server.digest ? ` (${server.digest})` : ''}`,
    server.protocolVersion && `MCP protocol ${server.protocolVersion}`,
    server.sessions === false && 'Stateless: it answered initialize without an Mcp-Session-Id, so there are no sessions to pin — the service spreads its calls over the pods.',
    server.sessions === true && 'It issues sessions (Mcp-Session-Id): the proxy pins each one to its pod.',
    `${server.tools.length} tool${server.tools.length === 1 ? '' : 's'}`,
    server.error && `Could not read all of it: ${server.error}`,
  ].filter(Boolean).join('\n');
  return (
    <span className="server-id" title={title} data-testid="server-id">
      <span className="server-name" data-testid="server-name">{name}</span>
      <span className="server-source" data-testid="server-source">{server.kind === 'demo' ? 'demo backend' : server.source}</span>
      {server.sessions === false && <span className="badge badge-info" data-testid="server-stateless">stateless</span>}
      {server.error && <span className="server-error" data-testid="server-error">{server.error}</span>}
    </span>
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
