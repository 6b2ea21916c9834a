import { useState } from 'react';
import type { LabStatus } from '../../../app/api/contract.ts';
import { LIMITS, modernShareSchema, TRAFFIC_DEFAULTS, trafficSchema, type AffinityPolicy, type ClientsEra } from '../../../app/config.ts';
import { AFFINITY_POLICIES as POLICIES, CLIENT_ERAS as ERAS } from '../model/choices.ts';
import { useLab, useServer } from '../state/context.tsx';
import { ActionButton, useCommand } from '../ui/ActionButton.tsx';
import { Switch } from '../ui/Switch.tsx';
import { BrokenCombos } from './BrokenCombos.tsx';
import { callOf, CallRow, type CallChoice } from './CallPicker.tsx';

const { clients: CLIENTS, rate: RATE, modernShare: SHARE } = LIMITS;

/** Traffic and the lab's switches: the knobs a demo turns between two breakages. */
export function ControlBar({ status }: { status: LabStatus }) {
  const run = useCommand();
  const busy = useLab().running;
  const server = useServer();
  const [clients, setClients] = useState(TRAFFIC_DEFAULTS.clients);
  const [rate, setRate] = useState(TRAFFIC_DEFAULTS.rate);
  const [choice, setChoice] = useState<CallChoice>({ tool: '', args: {} });
  const { config } = status;
  // The era starts as the lab's config says (the default of traffic.start).
  const [era, setEra] = useState<ClientsEra>(config.clientsEra);
  const [share, setShare] = useState(config.modernShare);
  // Traffic started elsewhere (the CLI, the API, another window) shows here as it runs, and stays as the next start's values.
  const running = status.traffic;
  const runningKey = running ? JSON.stringify(running) : null;
  const [shownKey, setShownKey] = useState<string | null>(null);
  if (runningKey !== shownKey) {
    setShownKey(runningKey);
    if (running) {
      setClients(running.clients);
      setRate(running.rate);
      setEra(running.clientsEra);
      if (running.modernShare !== null) setShare(running.modernShare);
      setChoice(running.call ? { tool: running.call.tool, args: { ...choice.args, [running.call.tool]: JSON.stringify(running.call.args) } } : { ...choice, tool: '' });
    }
  }
  const call = callOf(choice, server?.tools ?? []);
  const shareValid = era !== 'mix' || modernShareSchema.safeParse(share).success;
  const valid = trafficSchema.safeParse({ clients, rate }).success && shareValid && !('error' in call);
  const start = () => {
    if (!('error' in call)) void run('traffic', 'traffic.start', { clients, rate, ...call, clientsEra: era, ...(era === 'mix' ? { modernShare: share } : {}) });
  };
  const why = 'error' in call
    ? `arguments: ${call.error}`
    : `clients: ${CLIENTS.min}–${CLIENTS.max}, calls/s: ${RATE.min}–${RATE.max}${era === 'mix' ? `, modern share: ${SHARE.min}–${SHARE.max}` : ''}`;
  return (
    <div className="control-bar">
      <fieldset className="control-group" aria-label="Traffic">
        <legend>traffic</legend>
        <label title={running ? "The running traffic's clients: stop it to change them" : "Simulated MCP clients (official SDK), each with its own session"}>
          <input type="number" className="clients-count" min={CLIENTS.min} max={CLIENTS.max} value={clients} disabled={running !== null}
            onChange={(e) => setClients(e.target.valueAsNumber)} data-testid="traffic-clients" /> clients
        </label>
        <label title={running ? "The running traffic's calls per second, per client: stop it to change them" : "Tool calls per second, per client"}>
          ×<input type="number" min={RATE.min} max={RATE.max} step={0.5} value={rate} disabled={running !== null}
            onChange={(e) => setRate(e.target.valueAsNumber)} data-testid="traffic-rate" /> calls/s
        </label>
        <ActionButton tone="primary" busyKey="traffic" testId="traffic-start" disabled={running !== null || !valid}
          title={valid ? 'Start the simulated clients' : why} onClick={start}>
          {running ? 'running' : 'start'}
        </ActionButton>
        <ActionButton busyKey="traffic" testId="traffic-stop" disabled={running === null} title="Stop the simulated clients" onClick={() => void run('traffic', 'traffic.stop')}>
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
          onChange={(e) => void run('switch.affinity', 'switch.affinity', { policy: e.target.value as AffinityPolicy })}>
          {Object.entries(POLICIES).map(([policy, title]) => (
            <option key={policy} value={policy} title={title}>
              {policy}
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
      <CallRow status={status} server={server} choice={choice} onChange={setChoice} era={era}>
        <fieldset className="control-group" aria-label="Era of the clients">
          <label title={`Which MCP era the simulated clients speak (applies at the next start): ${ERAS[era]}`}>
            <span className="switch-label">clients speak</span>
            <select value={era} onChange={(e) => setEra(e.target.value as ClientsEra)} data-testid="traffic-era">
              {Object.entries(ERAS).map(([value, title]) => <option key={value} value={value} title={title}>{value}</option>)}
            </select>
          </label>
          {era === 'mix' && (
            <label title={`The share of the clients that are modern, from ${SHARE.min} to ${SHARE.max}: the first of them are modern, the rest legacy`}>
              <input type="number" min={SHARE.min} max={SHARE.max} step={0.1} value={share} aria-invalid={!shareValid}
                onChange={(e) => setShare(e.target.valueAsNumber)} data-testid="traffic-modern-share" />
              <span className="switch-label">modern{Number.isFinite(share) ? ` (${Math.round(share * 100)} %)` : ''}</span>
            </label>
          )}
        </fieldset>
      </CallRow>
      <BrokenCombos config={config} testId="control-broken-combos" />
    </div>
  );
}
