import { useState } from 'react';
import type { LabStatus } from '../../../app/api/contract.ts';
import { useLab, useServer } from '../state/context.tsx';
import { ActionButton, useCommand } from '../ui/ActionButton.tsx';
import { Switch } from '../ui/Switch.tsx';
import { callOf, CallRow, type CallChoice } from './CallPicker.tsx';

type Policy = LabStatus['config']['affinity'];
const POLICIES: { value: Policy; title: string }[] = [
  { value: 'round-robin', title: 'each request to the next replica' },
  { value: 'client-ip', title: 'the same client address to the same replica' },
  { value: 'cookie', title: 'a sticky cookie names the replica' },
  { value: 'session-hash', title: 'the Mcp-Session-Id picks the replica' },
];

/** Traffic and the lab's switches: the knobs a demo turns between two breakages. */
export function ControlBar({ status }: { status: LabStatus }) {
  const run = useCommand();
  const busy = useLab().running;
  const server = useServer();
  const [clients, setClients] = useState(8);
  const [rate, setRate] = useState(5);
  const [choice, setChoice] = useState<CallChoice>({ tool: '', args: {} });
  const { config } = status;
  const call = callOf(choice, server?.tools ?? []);
  const valid = clients >= 1 && clients <= 500 && rate >= 0.1 && rate <= 100 && !('error' in call);
  const start = () => {
    if (!('error' in call)) void run('traffic', 'traffic.start', { clients, rate, ...call });
  };
  const why = 'error' in call ? `arguments: ${call.error}` : 'clients: 1–500, calls/s: 0.1–100';
  return (
    <div className="control-bar">
      <fieldset className="control-group" aria-label="Traffic">
        <legend>traffic</legend>
        <label title="Simulated MCP clients (official SDK), each with its own session">
          <input type="number" min={1} max={500} value={clients} onChange={(e) => setClients(e.target.valueAsNumber)} data-testid="traffic-clients" /> clients
        </label>
        <label title="Tool calls per second, per client">
          ×<input type="number" min={0.1} max={100} step={0.5} value={rate} onChange={(e) => setRate(e.target.valueAsNumber)} data-testid="traffic-rate" /> calls/s
        </label>
        <ActionButton tone="primary" busyKey="traffic" testId="traffic-start" disabled={status.traffic || !valid}
          title={valid ? 'Start the simulated clients' : why} onClick={start}>
          {status.traffic ? 'running' : 'start'}
        </ActionButton>
        <ActionButton busyKey="traffic" testId="traffic-stop" disabled={!status.traffic} title="Stop the simulated clients" onClick={() => void run('traffic', 'traffic.stop')}>
          stop
        </ActionButton>
      </fieldset>
      <Switch label="pinning" values={['pod', 'service']} on={config.pinning === 'service'} onIsBad busyKey="switch.pinning" testId="switch-pinning"
        title="What a new session's record pins: the pod the connection really reached (the fix), or the service address (the historical bug)"
        onToggle={() => void run('switch.pinning', 'switch.pinning', { pinning: config.pinning === 'pod' ? 'service' : 'pod' })} />
      <Switch label="recovery" values={['off', 'on']} on={config.recovery} busyKey="switch.recovery" testId="switch-recovery"
        title="Transparent re-initialization: when a session's pod is gone, re-initialize it on another pod and replay the request"
        onToggle={() => void run('switch.recovery', 'switch.recovery', { on: !config.recovery })} />
      <label className="control-group affinity" title="How the ingress spreads requests over the proxy replicas">
        <span className="switch-label">affinity</span>
        <select value={config.affinity} disabled={busy.has('switch.affinity')} data-testid="switch-affinity"
          onChange={(e) => void run('switch.affinity', 'switch.affinity', { policy: e.target.value as Policy })}>
          {POLICIES.map((p) => (
            <option key={p.value} value={p.value} title={p.title}>
              {p.value}
            </option>
          ))}
        </select>
      </label>
      <span className="grow" />
      <Switch label="store" values={['memory', 'redis']} on={config.store === 'redis'} busyKey="switch.store" testId="switch-store"
        title="Where replicas keep session records: each replica's own memory, or Redis shared by all. Switching restarts the replicas onto the new store."
        onToggle={() => void run('switch.store', 'switch.store', { store: config.store === 'redis' ? 'memory' : 'redis' })} />
      <ActionButton busyKey="lab.stop" testId="stop-lab" title="Stop the lab: pods, replicas, Redis and ingress are removed" onClick={() => void run('lab.stop', 'lab.stop')}>
        stop lab
      </ActionButton>
      <CallRow status={status} server={server} choice={choice} onChange={setChoice} />
    </div>
  );
}
