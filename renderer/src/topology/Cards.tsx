import { memo, type CSSProperties } from 'react';
import { byNumber } from '../../../app/shared/names.ts';
import { ActionButton, useCommand } from '../ui/ActionButton.tsx';
import { WaitingCalls } from '../ui/Waiting.tsx';
import type { PodNode, ReplicaNode } from './graph.ts';
import type { Box, Density } from './layout.ts';

const place = (box: Box): CSSProperties => ({ left: box.x, top: box.y, width: box.w, height: box.h });

function Badge({ state }: { state: string }) {
  return <span className={`badge state-${state}`}>{state}</span>;
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

interface PodProps {
  pod: PodNode;
  box: Box;
  density: Density;
}

export const PodCard = memo(function PodCard({ pod, box, density }: PodProps) {
  const run = useCommand();
  const args = { pod: pod.name };
  const dead = pod.state === 'dead';
  const paused = pod.state === 'paused';
  const buttons = !dead && (
    <span className="card-actions">
      <ActionButton small tone="danger" busyKey={`pod.kill:${pod.name}`} testId={`pod-kill-${pod.name}`} title={`Kill ${pod.name}: its sessions must move to another pod`}
        onClick={() => void run(`pod.kill:${pod.name}`, 'pod.kill', args)}>
        {density === 'tiny' ? '✕' : 'kill'}
      </ActionButton>
      <ActionButton small busyKey={`pod.restart:${pod.name}`} testId={`pod-restart-${pod.name}`} title={`Restart ${pod.name} in place: same address, memory lost`}
        onClick={() => void run(`pod.restart:${pod.name}`, 'pod.restart', args)}>
        {density === 'tiny' ? '↻' : 'restart'}
      </ActionButton>
      <ActionButton small busyKey={`pod.pause:${pod.name}`} testId={`pod-${paused ? 'unpause' : 'pause'}-${pod.name}`}
        title={paused ? `Unpause ${pod.name}` : `Pause ${pod.name}: it keeps its connections but answers nothing`}
        onClick={() => void run(`pod.pause:${pod.name}`, paused ? 'pod.unpause' : 'pod.pause', args)}>
        {density === 'tiny' ? (paused ? '▶' : '❚❚') : paused ? 'unpause' : 'pause'}
      </ActionButton>
    </span>
  );
  const counts = `${plural(pod.sessions, 'session')} · ${plural(pod.requests, 'request')}`;
  const markedBy = dead ? [] : Object.keys(pod.unhealthy).sort(byNumber);
  const health = markedBy.length > 0 && (
    <span className="pod-health" data-testid={`pod-health-${pod.name}`}
      title={`Its health probes get no answer in time, so these proxy replicas send it no new sessions, and its sessions move to another pod on their next request:\n${
        markedBy.map((r) => `${r}: ${pod.unhealthy[r]}`).join('\n')}`}>
      {density === 'tiny' ? '⚠ unhealthy' : (
        <>
          <span className="pod-health-what">Stopped answering probes</span>
          <span className="pod-health-who">unhealthy for {markedBy.join(', ')}</span>
        </>
      )}
    </span>
  );
  const pileUp = pod.pileUp && !dead && (
    <span className="pod-pile-up" data-testid={`pod-pile-up-${pod.name}`}
      title={`Pile-up: ${pod.pileUp}. Check the ingress's affinity (client-ip sends one address to one replica) and the service: a real cluster once sent everything to one pod for days.`}>
      ⚑ pile-up
    </span>
  );
  return (
    <div className={`card pod-card state-${pod.state} density-${dead ? 'tiny' : density}${health ? ' is-unhealthy' : ''}${pileUp ? ' is-piled' : ''}`} style={place(box)} data-testid={`pod-card-${pod.name}`}
      title={`${pod.name} ${pod.state}${pod.reason ? ` (${pod.reason})` : ''}${pod.address ? ` at ${pod.address}` : ''}${pod.inService ? '' : ' · not in the service'}`}>
      {dead || density === 'tiny' ? (
        <div className="card-row">
          <strong>{pod.name}</strong>
          <Badge state={pod.state} />
          <span className="card-dim mono">{dead ? (pod.reason || pod.address) : `${pod.sessions}s`}</span>
          {!dead && pod.waiting.calls > 0 && <span className="card-dim" title="calls waiting">⧗<WaitingCalls waiting={pod.waiting} form="short" testId={`pod-waiting-${pod.name}`} /></span>}
          {health}
          {pileUp}
          <span className="grow" />
          {buttons}
        </div>
      ) : (
        <>
          <div className="card-row">
            <strong>{pod.name}</strong>
            <Badge state={pod.state} />
            <span className="grow" />
            {/* Every pod listens on 127.0.0.1 (a process, or a container's published port): the port tells them apart. */}
            <span className="card-dim mono small" title={pod.address ?? ''}>{pod.address?.replace(/^.*:/, ':') ?? 'no address yet'}</span>
          </div>
          <div className="card-row card-count" data-testid={`pod-sessions-${pod.name}`}>{counts}</div>
          <div className="card-row card-count"><WaitingCalls waiting={pod.waiting} form="full" testId={`pod-waiting-${pod.name}`} /></div>
          {health && <div className="card-note">{health}</div>}
          {/* On the buttons' row, where there is room: the first row keeps the port in view. */}
          <div className="card-row">{buttons}<span className="grow" />{pileUp}</div>
        </>
      )}
    </div>
  );
});

interface ReplicaProps {
  replica: ReplicaNode;
  box: Box;
  density: Density;
}

export const ReplicaCard = memo(function ReplicaCard({ replica, box, density }: ReplicaProps) {
  const run = useCommand();
  const args = { replica: replica.id };
  const down = replica.state === 'down';
  const tiny = density === 'tiny';
  const buttons = (
    <span className="card-actions">
      <ActionButton small busyKey={`replica.restart:${replica.id}`} testId={`replica-restart-${replica.id}`} disabled={down}
        title={`Restart ${replica.id}: its memory goes, its connections are cut`}
        onClick={() => void run(`replica.restart:${replica.id}`, 'replica.restart', args)}>
        {tiny ? '↻' : 'restart'}
      </ActionButton>
      {down ? (
        <ActionButton small tone="primary" busyKey={`replica.start:${replica.id}`} testId={`replica-start-${replica.id}`} title={`Start ${replica.id} again`}
          onClick={() => void run(`replica.start:${replica.id}`, 'replica.start', args)}>
          {tiny ? '▶' : 'start'}
        </ActionButton>
      ) : (
        <ActionButton small tone="danger" busyKey={`replica.kill:${replica.id}`} testId={`replica-kill-${replica.id}`} title={`Kill ${replica.id}: the ingress sends its traffic to the others`}
          onClick={() => void run(`replica.kill:${replica.id}`, 'replica.kill', args)}>
          {tiny ? '✕' : 'kill'}
        </ActionButton>
      )}
    </span>
  );
  return (
    <div className={`card replica-card state-${replica.state} density-${density}`} style={place(box)} data-testid={`replica-card-${replica.id}`}
      title={`${replica.id} ${replica.state}${replica.reason ? ` (${replica.reason})` : ''}`}>
      <div className="card-row">
        <strong>{replica.id}</strong>
        <Badge state={replica.state} />
        <span className="grow" />
        {/* Every replica listens on 127.0.0.1: the port is what tells them apart. */}
        {tiny ? buttons : <span className="card-dim mono small" title={replica.address ?? ''}>{replica.address?.replace(/^.*:/, ':') ?? ''}</span>}
      </div>
      {!tiny && (
        <>
          <div className="card-row card-count">{plural(replica.sessions, 'session')} · {plural(replica.requests, 'request')}</div>
          <div className="card-row">{buttons}</div>
        </>
      )}
    </div>
  );
});
