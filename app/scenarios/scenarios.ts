import type { LabEvent } from '../events.ts';
import type { Lab } from '../lab.ts';

export interface ScenarioContext {
  lab: Lab;
  /** Events so far, to find e.g. the pod holding the most sessions. */
  events: () => readonly LabEvent[];
  /** Lets traffic run for a while: scenarios measure what clients see, so time must pass. */
  settle: (ms: number) => Promise<void>;
}

export interface Scenario {
  name: string;
  description: string;
  run(ctx: ScenarioContext): Promise<void>;
}

/** The pod (address) most sessions are pinned to now, from session and recovery events. */
export function busiestPod(events: readonly LabEvent[]): string | undefined {
  const pinned = new Map<string, string>();
  for (const event of events) {
    if (event.type === 'session.created') pinned.set(event.sessionId, event.pod);
    else if (event.type === 'recovery.done') pinned.set(event.sessionId, event.toPod);
    else if (event.type === 'session.deleted') pinned.delete(event.sessionId);
  }
  const counts = new Map<string, number>();
  for (const pod of pinned.values()) counts.set(pod, (counts.get(pod) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

function podByAddress(lab: Lab, address: string | undefined): string {
  const live = lab.pods().filter((p) => p.state !== 'dead');
  return (live.find((p) => p.address === address) ?? live[0])!.name;
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'pod-kill',
    description: 'Kill the pod holding the most sessions; the controller replaces it at a new address.',
    async run({ lab, events, settle }) {
      await lab.killPod(podByAddress(lab, busiestPod(events())));
      await settle(3000);
    },
  },
  {
    name: 'pod-restart-in-place',
    description: 'Restart the busiest pod at the same address: its memory, and every session on it, is gone.',
    async run({ lab, events, settle }) {
      await lab.restartPod(podByAddress(lab, busiestPod(events())));
      await settle(3000);
    },
  },
  {
    name: 'runner-restart',
    description: 'Restart every proxy replica once, abruptly: memory gone, connections cut.',
    async run({ lab, settle }) {
      for (const replica of lab.replicaList()) await lab.restartReplica(replica.id);
      await settle(3000);
    },
  },
  {
    name: 'redis-outage',
    description: 'Stop Redis for 2 s (restarted empty), then let the replicas catch up.',
    async run({ lab, settle }) {
      await lab.stopRedis();
      await settle(2000);
      await lab.startRedis();
      await settle(3000);
    },
  },
  {
    name: 'scale-down',
    description: 'Scale the pods down to one: sessions on the removed pods must move.',
    async run({ lab, settle }) {
      await lab.scalePods(1);
      await settle(3000);
    },
  },
  {
    name: 'rolling-restart',
    description: 'Restart the pods one after another, as a Deployment rollout does.',
    async run({ lab, settle }) {
      for (const pod of lab.pods().filter((p) => p.state !== 'dead')) {
        await lab.restartPod(pod.name);
        await settle(1000);
      }
      await settle(2000);
    },
  },
];

export function findScenario(name: string): Scenario {
  const scenario = SCENARIOS.find((s) => s.name === name);
  if (!scenario) throw new Error(`no scenario named "${name}" (scenarios: ${SCENARIOS.map((s) => s.name).join(', ')})`);
  return scenario;
}

