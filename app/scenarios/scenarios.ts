import type { ClientsEra, LabConfig } from '../config.ts';
import type { LabEvent } from '../events.ts';
import type { Lab } from '../lab.ts';
import { SCENARIO_CATALOG, SCENARIO_NAMES, type ScenarioName } from '../shared/scenario-catalog.ts';

export interface ScenarioContext {
  lab: Lab;
  /** Events so far, to find e.g. the pod holding the most sessions. */
  events: () => readonly LabEvent[];
  /** Lets traffic run for a while: scenarios measure what clients see, so time must pass. */
  settle: (ms: number) => Promise<void>;
}

export interface Scenario {
  name: ScenarioName;
  description: string;
  /** Why the scenario cannot apply to a lab so configured (there is nothing of the lab's to break), or null. */
  notApplicable(config: LabConfig): string | null;
  /** The clients' era when the scenario runs traffic of its own (else the lab's config says). */
  clientsEra?: ClientsEra;
  run(ctx: ScenarioContext): Promise<void>;
}

/**
 * A scenario asked of a lab it cannot apply to: a mode where it has no meaning (an "n/a" in
 * the matrix), not a failure. Thrown before anything starts.
 */
export class ScenarioNotApplicableError extends Error {
  override name = 'ScenarioNotApplicableError';
  readonly reason: string;

  constructor(scenario: ScenarioName, reason: string) {
    super(`${scenario} does not apply to this lab: ${reason}`);
    this.reason = reason;
  }
}

/** Throws ScenarioNotApplicableError when `scenario` cannot apply to a lab with `config`. */
export function checkApplies(scenario: Scenario, config: LabConfig): void {
  const reason = scenario.notApplicable(config);
  if (reason) throw new ScenarioNotApplicableError(scenario.name, reason);
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

/** How long pod-hang keeps its pod paused: well past the health budget (interval × threshold + recovery ≈ 2–3 s). */
const HANG_MS = 10_000;

/** What each scenario of the catalog does to a lab. */
const RUNS: Record<ScenarioName, Scenario['run']> = {
  'pod-kill': async ({ lab, events, settle }) => {
    await lab.killPod(podByAddress(lab, busiestPod(events())));
    await settle(3000);
  },
  'pod-hang': async ({ lab, events, settle }) => {
    const pod = podByAddress(lab, busiestPod(events()));
    await lab.pausePod(pod);
    try {
      await settle(HANG_MS);
    } finally {
      await lab.unpausePod(pod);
    }
    await settle(3000);
  },
  'pod-restart-in-place': async ({ lab, events, settle }) => {
    await lab.restartPod(podByAddress(lab, busiestPod(events())));
    await settle(3000);
  },
  'runner-restart': async ({ lab, settle }) => {
    for (const replica of lab.replicaList()) await lab.restartReplica(replica.id);
    await settle(3000);
  },
  'redis-outage': async ({ lab, settle }) => {
    await lab.stopRedis();
    await settle(2000);
    await lab.startRedis();
    await settle(3000);
  },
  'scale-down': async ({ lab, settle }) => {
    await lab.scalePods(1);
    await settle(3000);
  },
  'handle-leak': async ({ lab, settle }) => {
    // Nothing to break: the service spreads sessionless calls over the pods by itself.
    if (lab.trafficClientsEra === 'legacy') {
      throw new Error('handle-leak needs modern clients, and the traffic running now is legacy only: stop it, or start it with the clients\' era modern or mix');
    }
    await settle(6000);
  },
  'rolling-restart': async ({ lab, settle }) => {
    for (const pod of lab.pods().filter((p) => p.state !== 'dead')) {
      await lab.restartPod(pod.name);
      await settle(1000);
    }
    await settle(2000);
  },
};

/** Only a Redis the lab started itself can be stopped: an external one is never stopped or flushed. */
function noRedisOfItsOwn(config: LabConfig): string | null {
  if (config.store !== 'redis') return 'the lab uses the memory store: there is no Redis to break';
  if (config.redisUrl) return "the lab's Redis is external: the lab never stops or flushes a Redis it did not start";
  return null;
}

/** Handles are the demo's cart tools' (the detector watches any server's calls, but only the demo is known to mint them). */
function noHandlesToLeak(config: LabConfig): string | null {
  return config.backend.kind === 'demo' ? null : "the pods do not run the demo backend, whose cart tools mint the handles (the lab's leak detector watches any server's calls all the same)";
}

/** Scenarios that apply only to some labs; the others apply to every lab. */
const PRECONDITIONS: Partial<Record<ScenarioName, Scenario['notApplicable']>> = {
  'redis-outage': noRedisOfItsOwn,
  'handle-leak': noHandlesToLeak,
};

/** Scenarios whose own traffic is of an era of their own. */
const CLIENTS_ERA: Partial<Record<ScenarioName, ClientsEra>> = {
  'handle-leak': 'modern',
};

export const SCENARIOS: readonly Scenario[] = SCENARIO_CATALOG.map((entry) => ({
  ...entry, run: RUNS[entry.name], notApplicable: PRECONDITIONS[entry.name] ?? (() => null), clientsEra: CLIENTS_ERA[entry.name],
}));

export function findScenario(name: string): Scenario {
  const scenario = SCENARIOS.find((s) => s.name === name);
  if (!scenario) throw new Error(`no scenario named "${name}" (scenarios: ${SCENARIO_NAMES.join(', ')})`);
  return scenario;
}

