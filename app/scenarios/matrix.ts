import { messageOf } from '../../proxy-core/errors.ts';
import { parseLabConfig, pinningSchema, storeSchema, type AffinityPolicy, type LabConfigInput, type PinningKind, type StoreKind } from '../config.ts';
import { brokenCombosOf, type BrokenCombo } from '../shared/broken-combos.ts';
import { runScenario, type ScenarioRunOptions } from './run.ts';
import { ScenarioNotApplicableError } from './scenarios.ts';
import type { Verdict } from './verdict.ts';

/** One cell of the matrix: a scenario in one mode, and what the clients saw. */
export interface MatrixRow {
  scenario: string;
  store: StoreKind;
  pinning: PinningKind;
  recovery: boolean;
  /** The ingress's affinity (the base lab's). */
  affinity: AffinityPolicy;
  /** The known broken combinations this row runs (app/shared/broken-combos.ts): its numbers are their cost. Empty: none. */
  brokenCombos: BrokenCombo[];
  /** What the clients saw; null when the scenario did not apply or its run failed. */
  verdict: Omit<Verdict, 'errorSamples'> | null;
  /** Why the scenario cannot apply to this mode (no Redis of the lab's own to stop). */
  notApplicable: string | null;
  /** Why the run failed (a pod that never started, a lab that could not start): no verdict to show. */
  failed: string | null;
}

export type MatrixMode = Pick<MatrixRow, 'store' | 'pinning' | 'recovery'>;

/**
 * Every store × every pinning × recovery on and off. (Client-IP affinity is no mode of its
 * own: in the lab it puts every client on one replica, a cost none of the columns measure —
 * a row that read clean would hide it. A base lab with it has it named in `brokenCombos`.)
 */
export const MODES: readonly MatrixMode[] = storeSchema.options.flatMap((store) =>
  pinningSchema.options.flatMap((pinning) => [true, false].map((recovery) => ({ store, pinning, recovery }))));

/** The lab of one mode: the base (its server under test, its call…) with the mode's switches. */
function configFor(base: LabConfigInput, mode: MatrixMode): LabConfigInput {
  // An external Redis serves the redis rows only: the memory rows have no use for it.
  const { redisUrl, ...rest } = base;
  return { ...rest, ...(mode.store === 'redis' && redisUrl ? { redisUrl } : {}), ...mode, ingressPort: 0 };
}

/**
 * Runs each scenario in every mode — {redis, memory} × {pod, service} × {recovery on, off} —
 * each on a lab of its own, one after another; `onRow` hears each as it ends. `base` is the
 * lab to vary: its size, runtime, affinity, and the server under test with what its clients
 * call. A bad `base` throws before any lab starts; a run that fails is a row with its reason.
 */
export async function runMatrix(
  scenarios: readonly string[],
  base: LabConfigInput,
  options: ScenarioRunOptions & { onRow?: (row: MatrixRow) => void } = {},
): Promise<MatrixRow[]> {
  for (const mode of MODES) parseLabConfig(configFor(base, mode));
  const rows: MatrixRow[] = [];
  for (const scenario of scenarios) {
    for (const mode of MODES) {
      const row = await runRow(scenario, mode, configFor(base, mode), options);
      rows.push(row);
      options.onRow?.(row);
    }
  }
  return rows;
}

async function runRow(scenario: string, mode: MatrixMode, config: LabConfigInput, options: ScenarioRunOptions): Promise<MatrixRow> {
  const parsed = parseLabConfig(config);
  const row: MatrixRow = {
    scenario, ...mode, affinity: parsed.affinity, brokenCombos: brokenCombosOf(parsed), verdict: null, notApplicable: null, failed: null,
  };
  try {
    const { errorSamples: _samples, events: _events, config: ran, versions: _versions, runtime: _runtime, scenario: _name, ...verdict } =
      await runScenario(scenario, config, { clients: options.clients, rate: options.rate, warmupMs: options.warmupMs });
    // Without redis-server the lab falls back to the memory store: its numbers are not this row's.
    if (ran.store !== mode.store) return { ...row, failed: `the lab ran on the ${ran.store} store instead (is redis-server installed?)` };
    return { ...row, verdict };
  } catch (error) {
    if (error instanceof ScenarioNotApplicableError) return { ...row, notApplicable: error.reason };
    return { ...row, failed: messageOf(error) };
  }
}

/** One row for progress logs: the mode, then its numbers, or n/a or the failure with the reason. */
export function describeRow(row: MatrixRow): string {
  const mode = `${row.scenario} with store ${row.store}, pinning ${row.pinning}, recovery ${row.recovery ? 'on' : 'off'}`;
  return `${mode}: ${outcomeOf(row)}${row.brokenCombos.length ? ` — known broken: ${row.brokenCombos.map((c) => c.title).join('; ')}` : ''}`;
}

function outcomeOf(row: MatrixRow): string {
  if (row.verdict) {
    const v = row.verdict;
    return `${v.recoverableErrors} recoverable error(s), ${v.unknownOutcome} outcome unknown, ${v.recoveries} recoveries, longest wait ${v.longestWaitMs} ms`;
  }
  if (row.notApplicable) return `n/a (${row.notApplicable})`;
  return `failed: ${row.failed}`;
}
