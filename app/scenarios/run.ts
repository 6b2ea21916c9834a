import { setTimeout as sleep } from 'node:timers/promises';
import type { LabConfig, LabConfigInput } from '../config.ts';
import type { LabEvent } from '../events.ts';
import { Lab } from '../lab.ts';
import { findScenario } from './scenarios.ts';
import { verdictOf, type Verdict } from './verdict.ts';

export interface ScenarioResult extends Verdict {
  scenario: string;
  config: LabConfig;
  runtime: string;
  versions: Record<string, string>;
  /** Everything that happened, for a report. */
  events: LabEvent[];
}

export interface ScenarioRunOptions {
  clients?: number;
  /** Calls per second per client. */
  rate?: number;
  /** Traffic before the scenario breaks anything. */
  warmupMs?: number;
  onEvent?: (event: LabEvent) => void;
}

/** Starts a lab, runs traffic and the scenario's chaos, stops the lab, and judges. */
export async function runScenario(name: string, config: LabConfigInput, options: ScenarioRunOptions = {}): Promise<ScenarioResult> {
  const scenario = findScenario(name);
  const events: LabEvent[] = [];
  const lab = await Lab.start({ ...config, ingressPort: config.ingressPort ?? 0 }, {
    onEvent: (event) => {
      events.push(event);
      options.onEvent?.(event);
    },
  });
  let versions: Record<string, string>;
  try {
    lab.startTraffic({ clients: options.clients ?? 8, rate: options.rate ?? 5 });
    await sleep(options.warmupMs ?? 2000);
    await scenario.run({ lab, events: () => events, settle: (ms) => sleep(ms) });
    await lab.stopTraffic();
    versions = await lab.versions();
  } finally {
    await lab.stop();
  }
  return { scenario: name, config: lab.config, runtime: lab.runtimeNote, versions, events, ...verdictOf(events) };
}
