import { setTimeout as sleep } from 'node:timers/promises';
import { parseLabConfig, TRAFFIC_DEFAULTS, type LabConfig, type LabConfigInput } from '../config.ts';
import type { LabEvent } from '../events.ts';
import { Lab } from '../lab.ts';
import { checkApplies, findScenario } from './scenarios.ts';
import { verdictOf, type Verdict } from './verdict.ts';

/** A scenario's verdict on one lab. */
export interface ScenarioVerdict extends Verdict {
  scenario: string;
}

export interface ScenarioResult extends ScenarioVerdict {
  config: LabConfig;
  runtime: string;
  versions: Record<string, string>;
  /** Everything that happened, for a report. */
  events: LabEvent[];
}

/** The traffic a scenario runs under when the lab has none of its own. */
export interface ScenarioTraffic {
  clients?: number;
  /** Calls per second per client. */
  rate?: number;
  /** Traffic before the scenario breaks anything. */
  warmupMs?: number;
}

export interface ScenarioRunOptions extends ScenarioTraffic {
  onEvent?: (event: LabEvent) => void;
}

/**
 * Runs a scenario on a running lab: traffic of its own when none runs (warmed up before
 * anything breaks), the scenario's chaos, and the verdict on what was recorded meanwhile.
 * `events` answers everything the lab has emitted so far, in order. Throws
 * ScenarioNotApplicableError, before anything starts, when the scenario cannot apply to the lab.
 */
export async function runScenarioOn(lab: Lab, name: string, events: () => readonly LabEvent[], options: ScenarioTraffic = {}): Promise<ScenarioVerdict> {
  const scenario = findScenario(name);
  checkApplies(scenario, lab.config);
  const from = events().length;
  const ownTraffic = !lab.trafficRunning;
  try {
    if (ownTraffic) {
      lab.startTraffic({ clients: options.clients ?? TRAFFIC_DEFAULTS.clients, rate: options.rate ?? TRAFFIC_DEFAULTS.rate, clientsEra: scenario.clientsEra });
      await sleep(options.warmupMs ?? 2000);
    }
    await scenario.run({ lab, events, settle: (ms) => sleep(ms) });
  } finally {
    if (ownTraffic) await lab.stopTraffic();
  }
  const podsUp = lab.pods().filter((p) => p.state === 'ready').length;
  return { scenario: name, ...verdictOf(events().slice(from), { demo: lab.config.backend.kind === 'demo', podsUp }) };
}

/** Starts a lab, runs the scenario on it (see runScenarioOn), stops the lab, and judges. */
export async function runScenario(name: string, config: LabConfigInput, options: ScenarioRunOptions = {}): Promise<ScenarioResult> {
  // A scenario that cannot apply is said before a lab is started for nothing.
  checkApplies(findScenario(name), parseLabConfig(config));
  const events: LabEvent[] = [];
  const lab = await Lab.start({ ...config, ingressPort: config.ingressPort ?? 0 }, {
    onEvent: (event) => {
      events.push(event);
      options.onEvent?.(event);
    },
  });
  let verdict: ScenarioVerdict;
  let versions: Record<string, string>;
  try {
    verdict = await runScenarioOn(lab, name, () => events, options);
    versions = await lab.versions();
  } finally {
    await lab.stop();
  }
  return { ...verdict, config: lab.config, runtime: lab.runtimeNote, versions, events };
}
