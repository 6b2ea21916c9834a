import { useState } from 'react';
import type { CommandResult } from '../../../app/api/contract.ts';
import { CLIENT_FAULTS, type ClientFault, type ClientFaultVerdict } from '../../../app/shared/client-faults.ts';
import { shortId } from '../../../app/shared/names.ts';
import { checkSummary, verdictRow } from '../model/clients.ts';
import { useLab } from '../state/context.tsx';
import { useCommand } from '../ui/ActionButton.tsx';

/** What marks the check of one client as running. */
export const checkKey = (client: string) => `client.check:${client}`;

/** One check at a time: its faults move the lab's switches (recovery, the 400 answer) while they run. */
export function checkRunning(running: ReadonlySet<string>): boolean {
  return [...running].some((key) => key.startsWith('client.check:'));
}

/** A check of one client: what was asked, and its result once the lab answered (null meanwhile, or after an error). */
export interface CheckRun {
  client: string;
  faults: ClientFault[];
  /** Epoch ms it was asked: verdicts that arrive as events from then on are this check's. */
  since: number;
  result: CommandResult<'client.check'> | null;
  /** The lab refused or failed it (the error banner says why). */
  failed: boolean;
}

/** Runs `client.check` on a client by its clientInfo name; the run is shared by the list that starts it and the panel that shows it. */
export function useClientCheck(): { check: CheckRun | null; start: (client: string, faults: ClientFault[]) => Promise<void>; close: () => void } {
  const run = useCommand();
  const [check, setCheck] = useState<CheckRun | null>(null);
  const start = async (client: string, faults: ClientFault[]) => {
    const since = Date.now();
    setCheck({ client, faults, since, result: null, failed: false });
    const result = await run(checkKey(client), 'client.check', { clientName: client, faults });
    setCheck((c) => (c?.since === since ? { ...c, result: result ?? null, failed: result === undefined } : c));
  };
  return { check, start, close: () => setCheck(null) };
}

const DESCRIPTIONS: Record<ClientFault, string> = Object.fromEntries(CLIENT_FAULTS.map((f) => [f.name, f.description])) as Record<ClientFault, string>;

/** The verdict per fault of the last client check: live while it runs (from `client.checked` events), final from its result. */
export function ClientCheckPanel({ check, onClose }: { check: CheckRun; onClose: () => void }) {
  const { snapshot } = useLab();
  // Running from the moment it was asked until its result (or failure) is in: the lab's list of
  // commands in flight reaches React a frame later, and the panel must not say "not judged" meanwhile.
  const busy = check.result === null && !check.failed;
  // Each verdict also arrives as an event: shown as soon as its fault is judged.
  const verdicts: ClientFaultVerdict[] = check.result?.verdicts
    ?? snapshot.recent.flatMap((e) => (e.type === 'client.checked' && e.client === check.client && e.startedAt >= check.since - 1000 ? [e] : []));
  const judged = new Map(verdicts.map((v) => [v.fault, v]));
  const version = check.result?.client.version;
  const session = verdicts[0]?.sessionId;
  return (
    <section className="panel client-check-panel" aria-label="Client check" data-testid="client-check">
      <header className="panel-header">
        <h2>Client check: <span data-testid="client-check-name">{check.client}</span>{version && <span className="panel-count">{version}</span>}</h2>
        <span className="panel-hint" aria-live="polite" data-testid="client-check-summary">
          {busy ? `aiming ${check.faults.length} fault${check.faults.length === 1 ? '' : 's'} at it, one after another: each waits for the client…`
            : check.failed ? 'the check could not run: the message above says why'
              : checkSummary(verdicts)}
          {session && <> · aimed at session <span className="mono" title={session}>{shortId(session)}</span> first</>}
        </span>
        <span className="grow" />
        <button type="button" className="btn btn-small btn-plain" onClick={onClose} disabled={busy} aria-label="Close the client check"
          title={busy ? 'The check is still running' : 'Close the client check'}>✕</button>
      </header>
      <p className="panel-hint">Judged only from what the client sends through the ingress: does <em>the client</em> get over each fault, how fast, and does it lose calls?</p>
      <table className="sessions-table verdict-table">
        <thead>
          <tr>
            <th>fault</th>
            <th>verdict</th>
            <th>what the client did</th>
            <th className="num" title="from the first error it saw (or the fault) to working again">recovered in</th>
            <th className="num" title="calls that failed and were never sent again with success">calls lost</th>
          </tr>
        </thead>
        <tbody>
          {check.faults.map((fault, i) => {
            const v = judged.get(fault);
            if (!v) {
              const now = busy && check.faults.slice(0, i).every((f) => judged.has(f));
              return (
                <tr key={fault} data-testid={`verdict-${fault}`} className="is-ended">
                  <td title={DESCRIPTIONS[fault]}>{fault}</td>
                  <td colSpan={4}>{now ? <><span className="spinner" aria-hidden="true" /> running…</> : busy ? 'waiting' : 'not judged'}</td>
                </tr>
              );
            }
            const row = verdictRow(v);
            return (
              <tr key={fault} data-testid={`verdict-${fault}`} data-verdict={v.verdict}>
                <td title={DESCRIPTIONS[fault]}>{fault}</td>
                <td><span className={`verdict-badge tone-${row.tone}`} data-testid={`verdict-${fault}-word`}>{row.verdict}</span></td>
                <td className="verdict-did" title={row.saw ? `its failed calls got: ${row.saw}` : undefined}>{row.did}</td>
                <td className="num">{row.recovered}</td>
                <td className={`num${row.callsLost ? ' text-bad' : ''}`}>{row.callsLost}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
