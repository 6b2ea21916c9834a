import { parseLabConfig, type LabConfigInput } from '../config.ts';
import { runScenario, type ScenarioRunOptions } from './run.ts';
import type { Verdict } from './verdict.ts';

/** One cell of the matrix: a scenario in one mode, and what the clients saw. */
export interface MatrixRow {
  scenario: string;
  store: 'redis' | 'memory';
  pinning: 'pod' | 'service';
  recovery: boolean;
  verdict: Omit<Verdict, 'errorSamples'> | null;
  /** Why the scenario cannot apply to this mode (no Redis to stop with the memory store). */
  notApplicable: string | null;
}

export const MODES = (['redis', 'memory'] as const).flatMap((store) =>
  (['pod', 'service'] as const).flatMap((pinning) => [true, false].map((recovery) => ({ store, pinning, recovery }))));

/**
 * Runs each scenario in every mode — {redis, memory} × {pod, service} × {recovery on, off} —
 * each on a lab of its own, one after another; `onRow` hears each as it ends.
 */
export async function runMatrix(
  scenarios: readonly string[],
  base: LabConfigInput,
  options: ScenarioRunOptions & { onRow?: (row: MatrixRow) => void } = {},
): Promise<MatrixRow[]> {
  const rows: MatrixRow[] = [];
  for (const scenario of scenarios) {
    for (const mode of MODES) {
      const config = { ...base, ...mode, ingressPort: 0 };
      let row: MatrixRow;
      try {
        const { errorSamples: _samples, events: _events, config: _config, versions: _versions, runtime: _runtime, scenario: _name, ...verdict } =
          await runScenario(scenario, config, { clients: options.clients, rate: options.rate, warmupMs: options.warmupMs });
        row = { scenario, ...mode, verdict, notApplicable: null };
      } catch (error) {
        parseLabConfig(config); // a bad base config is the caller's error, not an n/a row
        row = { scenario, ...mode, verdict: null, notApplicable: (error as Error).message };
      }
      rows.push(row);
      options.onRow?.(row);
    }
  }
  return rows;
}
