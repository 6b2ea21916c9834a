import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabEvent } from '../events.ts';
import { Lab } from '../lab.ts';
import { buildReport, writeReport } from '../report/report.ts';
import { runMatrix } from '../scenarios/matrix.ts';
import { findScenario, SCENARIOS } from '../scenarios/scenarios.ts';
import { verdictOf } from '../scenarios/verdict.ts';
import { reduce } from '../state/reducer.ts';
import { emptySnapshot, type LabSnapshot } from '../state/snapshot.ts';
import { commandArgs, type Command, type CommandArgs, type CommandResult, type LabStatus, type Reply } from './contract.ts';

/** Events kept for reports: enough for long runs, bounded for memory. */
const MAX_EVENTS = 200_000;
/** Pushes are batched: one message per 50 ms instead of one per event. */
const PUSH_MS = 50;

type Handlers = { [C in Command]: (args: CommandArgs<C>) => Promise<CommandResult<C>> };

/**
 * The lab behind the typed contract: one lab at a time, its snapshot kept by the reducer,
 * its events pushed in batches. Electron IPC and web mode are thin transports over `invoke`
 * and `subscribe`.
 */
export class LabService {
  private lab: Lab | null = null;
  private snapshot: LabSnapshot = emptySnapshot();
  private events: LabEvent[] = [];
  private pending: LabEvent[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  /** Each listener with how many of the pending events it already has (they were in its snapshot). */
  private readonly listeners = new Map<(events: LabEvent[]) => void, number>();
  private readonly defaults: Parameters<typeof Lab.start>[0];
  private busy: Promise<unknown> = Promise.resolve();
  private matrixRunning = false;

  /** `defaults` are the lab flags this service was started with (e.g. `pinlab serve --pods 5`). */
  constructor(defaults: Parameters<typeof Lab.start>[0] = {}) {
    this.defaults = defaults;
  }

  /** Validates `args` against the contract, runs the command, and answers `{result}` or `{error}`. */
  async invoke<C extends Command>(command: C, args?: unknown): Promise<Reply<C>> {
    const schema = commandArgs[command];
    if (!schema) return { error: { message: `unknown command "${String(command)}"` } };
    const parsed = schema.safeParse(args);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`).join('; ');
      return { error: { message: `${command}: ${problems}` } };
    }
    try {
      const handler = this.handlers[command] as (a: unknown) => Promise<CommandResult<C>>;
      // Commands that change the lab run one at a time, in order; the matrix runs labs of its own.
      if (command === 'matrix.run') return { result: await handler(parsed.data) };
      const run = this.busy.then(() => handler(parsed.data));
      this.busy = run.catch(() => {});
      return { result: await run };
    } catch (error) {
      return { error: { message: error instanceof Error ? error.message : String(error) } };
    }
  }

  /**
   * Event batches from now on, in order: events recorded before this call are in
   * `getSnapshot()` already, and are not sent again.
   */
  subscribe(listener: (events: LabEvent[]) => void): () => void {
    this.listeners.set(listener, this.pending.length);
    return () => this.listeners.delete(listener);
  }

  getSnapshot(): LabSnapshot {
    return this.snapshot;
  }

  async close(): Promise<void> {
    await this.lab?.stop();
    this.lab = null;
    if (this.flushTimer) clearTimeout(this.flushTimer);
  }

  private readonly handlers: Handlers = {
    'lab.start': async (config) => {
      if (this.lab) throw new Error('a lab is already running: stop it first');
      this.snapshot = emptySnapshot();
      this.events = [];
      this.lab = await Lab.start({ ...this.defaults, ...(config ?? {}) }, { onEvent: (event) => this.record(event) });
      return this.status()!;
    },
    'lab.stop': async () => {
      await this.lab?.stop();
      this.lab = null;
      return null;
    },
    'lab.status': async () => this.status(),
    'snapshot.get': async () => this.snapshot,
    'pod.kill': async ({ pod }) => nothing(await this.need().killPod(pod)),
    'pod.restart': async ({ pod }) => nothing(await this.need().restartPod(pod)),
    'pod.pause': async ({ pod }) => nothing(await this.need().pausePod(pod)),
    'pod.unpause': async ({ pod }) => nothing(await this.need().unpausePod(pod)),
    'pods.scale': async ({ count }) => nothing(await this.need().scalePods(count)),
    'replica.restart': async ({ replica }) => nothing(await this.need().restartReplica(replica)),
    'replica.kill': async ({ replica }) => nothing(await this.need().killReplica(replica)),
    'replica.start': async ({ replica }) => nothing(await this.need().startReplica(replica)),
    'replicas.scale': async ({ count }) => nothing(await this.need().scaleReplicas(count)),
    'redis.stop': async () => nothing(await this.need().stopRedis()),
    'redis.start': async () => nothing(await this.need().startRedis()),
    'redis.flush': async () => ({ removed: await this.need().flushRedis() }),
    'switch.affinity': async ({ policy }) => nothing(this.need().setAffinity(policy)),
    'switch.pinning': async ({ pinning }) => nothing(this.need().setPinning(pinning)),
    'switch.recovery': async ({ on }) => nothing(this.need().setRecovery(on)),
    'switch.store': async ({ store }) => nothing(await this.need().setStore(store)),
    'traffic.start': async ({ clients, rate, call }) => nothing(this.need().startTraffic({ clients, rate, call: call && { tool: call.tool, args: call.args ?? {} } })),
    'traffic.stop': async () => nothing(await this.need().stopTraffic()),
    'scenario.run': async ({ name }) => {
      const lab = this.need();
      const scenario = findScenario(name);
      const from = this.events.length;
      const ownTraffic = !lab.trafficRunning;
      if (ownTraffic) {
        lab.startTraffic({ clients: 8, rate: 5 });
        await sleep(2000);
      }
      await scenario.run({ lab, events: () => this.events, settle: (ms) => sleep(ms) });
      if (ownTraffic) await lab.stopTraffic();
      return { scenario: name, ...verdictOf(this.events.slice(from), { demo: lab.config.backend.kind === 'demo' }) };
    },
    'matrix.run': async (args) => {
      if (this.matrixRunning) throw new Error('the matrix is already running');
      const names = args?.scenarios ?? SCENARIOS.map((s) => s.name);
      for (const name of names) findScenario(name);
      const base = this.lab?.config ?? { ...this.defaults };
      this.matrixRunning = true;
      try {
        return await runMatrix(names, { replicas: base.replicas, pods: base.pods, runtime: base.runtime, affinity: base.affinity }, {
          clients: args?.clients ?? 8,
          onRow: (row) => this.record({
            type: 'lab.log', at: Date.now(), level: 'info',
            message: `matrix: ${row.scenario} with store ${row.store}, pinning ${row.pinning}, recovery ${row.recovery ? 'on' : 'off'}: ${row.verdict ? `${row.verdict.clientErrors} client error(s), ${row.verdict.recoveries} recoveries` : 'n/a'}`,
          }),
        });
      } finally {
        this.matrixRunning = false;
      }
    },
    'report.export': async (args) => {
      const lab = this.need();
      const dir = args?.dir ?? join(tmpdir(), `pinlab-report-${lab.id}-${Date.now()}`);
      const report = buildReport({ title: `lab ${lab.id}`, config: lab.config, runtimeNote: lab.runtimeNote, versions: await lab.versions(), events: this.events, server: lab.server });
      return writeReport(dir, report);
    },
  };

  private status(): LabStatus | null {
    const lab = this.lab;
    if (!lab) return null;
    return {
      id: lab.id, ingressUrl: lab.ingressUrl, runtime: lab.runtimeNote, config: lab.config,
      pods: lab.pods(), replicas: lab.replicaList(), traffic: lab.trafficRunning, server: lab.server,
    };
  }

  private need(): Lab {
    if (!this.lab) throw new Error('no lab is running: start one first (lab.start)');
    return this.lab;
  }

  private record(event: LabEvent): void {
    this.snapshot = reduce(this.snapshot, event);
    if (this.events.length < MAX_EVENTS) this.events.push(event);
    if (this.listeners.size === 0) return;
    this.pending.push(event);
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = null;
      const batch = this.pending;
      this.pending = [];
      for (const [listener, seen] of this.listeners) {
        this.listeners.set(listener, 0);
        if (batch.length > seen) listener(seen ? batch.slice(seen) : batch);
      }
    }, PUSH_MS);
  }
}

function nothing(_: unknown): null {
  return null;
}
