import { useMemo, useState } from 'react';
import { CLIENT_FAULTS, CLIENT_FAULT_NAMES, type ClientFault } from '../../../app/shared/client-faults.ts';
import { shortId } from '../../../app/shared/names.ts';
import { externalClients, whyNotCheckable } from '../model/clients.ts';
import { clock, count } from '../model/format.ts';
import { useLab } from '../state/context.tsx';
import { ActionButton } from '../ui/ActionButton.tsx';
import { EraBadge } from '../ui/EraBadge.tsx';
import { checkKey, checkRunning } from './ClientCheck.tsx';

interface Props {
  /** Runs the check on a client by its clientInfo name. */
  onCheck: (client: string, faults: ClientFault[]) => void;
}

/** Clients from outside the lab, as they named themselves at the ingress, each with a button that checks whether it recovers. */
export function ExternalClients({ onCheck }: Props) {
  const { snapshot, running } = useLab();
  const clients = useMemo(() => externalClients(snapshot.clients), [snapshot.clients]);
  const [faults, setFaults] = useState<ReadonlySet<ClientFault>>(new Set(CLIENT_FAULT_NAMES));
  const chosen = CLIENT_FAULT_NAMES.filter((f) => faults.has(f));
  const checking = checkRunning(running);
  const toggle = (fault: ClientFault) => setFaults((f) => {
    const next = new Set(f);
    if (!next.delete(fault)) next.add(fault);
    return next;
  });
  return (
    <section className="panel external-clients-panel" aria-label="Clients at the ingress">
      <header className="panel-header">
        <h2>Clients at the ingress <span className="panel-count" data-testid="external-clients-count">{clients.length}</span></h2>
      </header>
      {clients.length === 0 ? (
        <p className="empty">No client from outside yet. Point one at the URL above: it shows here by the name it gives (its <code>clientInfo</code>).</p>
      ) : (
        <ul className="external-clients">
          {clients.map((c) => {
            const why = whyNotCheckable(c);
            return (
              <li key={c.name} className="external-client" data-testid={`external-client-${c.name}`}>
                <div className="external-client-name">
                  <strong data-testid="external-client-name">{c.name}</strong> <span className="mono card-dim">{c.version}</span> <EraBadge era={c.era} />
                </div>
                <div className="card-dim external-client-facts">
                  {c.sessions} session{c.sessions === 1 ? '' : 's'}{c.sessionId && <> (newest <span className="mono" title={c.sessionId}>{shortId(c.sessionId)}</span>)</>}
                  {' · '}{count(c.calls)} request{c.calls === 1 ? '' : 's'} · last seen <span className="mono" data-testid="external-client-seen">{clock(c.lastSeen)}</span>
                  {c.remoteAddress && <> · from {c.remoteAddress}</>}
                </div>
                <ActionButton small busyKey={checkKey(c.name)} testId={`check-client-${c.name}`} disabled={why !== null || checking || chosen.length === 0}
                  title={why ?? (chosen.length === 0 ? 'Choose at least one fault below' : `Aim ${chosen.join(', ')} at its newest session, one after another, and judge what it does`)}
                  onClick={() => onCheck(c.name, chosen)}>
                  Check this client
                </ActionButton>
              </li>
            );
          })}
        </ul>
      )}
      <fieldset className="fault-choice" disabled={checking}>
        <legend>faults a check aims, in this order</legend>
        {CLIENT_FAULTS.map((f) => (
          <label key={f.name} title={f.description}>
            <input type="checkbox" checked={faults.has(f.name)} onChange={() => toggle(f.name)} data-testid={`check-fault-${f.name}`} /> {f.name}
          </label>
        ))}
      </fieldset>
      <p className="panel-hint">
        A client program rather than one already attached? <code className="selectable">npx pinlab client-check --command "node my-client.js {'{url}'}"</code> runs
        the same check on a lab of its own.
      </p>
    </section>
  );
}
