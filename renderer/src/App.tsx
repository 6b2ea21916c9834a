import { useState } from 'react';
import { Charts } from './charts/Charts.tsx';
import { ClientCheckPanel, useClientCheck } from './panels/ClientCheck.tsx';
import { ConnectClient } from './panels/ConnectClient.tsx';
import { ControlBar } from './panels/ControlBar.tsx';
import { ErrorBanner } from './panels/ErrorBanner.tsx';
import { ExternalClients } from './panels/ExternalClients.tsx';
import { Header } from './panels/Header.tsx';
import { RuntimeNote } from './panels/RuntimeNote.tsx';
import { Scenarios } from './panels/Scenarios.tsx';
import { Sessions } from './panels/Sessions.tsx';
import { StartPanel } from './panels/StartPanel.tsx';
import { Timeline } from './panels/Timeline.tsx';
import { useLab } from './state/context.tsx';
import { Topology } from './topology/Topology.tsx';

export function App() {
  const { status, statusError } = useLab();
  const [selected, setSelected] = useState<string | null>(null);
  const { check, start: startCheck, close: closeCheck } = useClientCheck();
  return (
    <div className="app">
      <Header />
      <ErrorBanner />
      {status === undefined && (
        <p className="waiting" data-testid="waiting">
          Reaching the lab…{statusError && <><br /><span className="text-bad">{statusError}</span></>}
        </p>
      )}
      {status === null && <StartPanel />}
      {status && (
        <main className="lab">
          <RuntimeNote />
          <ControlBar status={status} />
          <Topology selected={selected} onSelect={setSelected} />
          <div className={`lab-grid${check ? ' has-check' : ''}`}>
            <Sessions selected={selected} onSelect={setSelected} />
            <Timeline onSelect={setSelected} />
            <div className="side">
              <Charts />
              <ConnectClient url={status.ingressUrl} />
              <ExternalClients onCheck={(client, faults) => void startCheck(client, faults)} />
            </div>
            {check && <ClientCheckPanel check={check} onClose={closeCheck} />}
            <Scenarios />
          </div>
        </main>
      )}
    </div>
  );
}
