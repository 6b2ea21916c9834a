import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { messageOf } from '../../proxy-core/errors.ts';
import type { LabEvent } from '../events.ts';
import { Lab } from '../lab.ts';
import { buildReport, writeReport } from '../report/report.ts';
import { describeRow, runMatrix } from '../scenarios/matrix.ts';
import { runScenarioOn } from '../scenarios/run.ts';
import { SCENARIO_NAMES } from '../shared/scenario-catalog.ts';
import { reduceLive } from '../state/reducer.ts';
import { emptySnapshot, type LabSnapshot } from '../state/snapshot.ts';
import type { LabMessage } from './bridge.ts';
import { commandArgs, type Command, type CommandArgs, type CommandResult, type LabStatus, type Reply } from './contract.ts';
import { LiveFeed, type ReaderOptions } from './live-feed.ts';

/** Events kept for reports: enough for long runs, bounded for memory. */
const MAX_EVENTS = 200_000;
/** Events recorded but not reduced yet, at most: the snapshot is brought up to date when read, or at this many. */
const FOLD_AT = 10_000;

type Handlers = { [C in Command]: (args: CommandArgs<C>) => Promise<CommandResult<C>> };

/**
 * The lab behind the typed contract: one lab at a time, its snapshot kept by the reducer,
 * its events sent live by a LiveFeed. Electron IPC and web mode are thin transports over
 * `invoke` and `follow`.
 */
export class LabService {
  private lab: Lab | null = null;
  private reduced: LabSnapshot = emptySnapshot();
  private unreduced: LabEvent[] = [];
  private events: LabEvent[] = [];
  private readonly live = new LiveFeed(() => this.snapshot);
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
      return { error: { message: messageOf(error) } };
    }
  }

  /**
   * The live stream: `send` gets the snapshot now, then every event batch, in order, each
   * event once; a `{snapshot}` may come again (a new lab) and replaces the last. Returns what
   * stops it.
   */
  follow(send: (message: LabMessage) => void, options?: ReaderOptions): () => void {
    return this.live.open(send, options);
  }

  getSnapshot(): LabSnapshot {
    return this.snapshot;
  }

  /**
   * The snapshot now. Events are reduced in batches when it is read (a page opens, `snapshot.get`),
   * not one by one as they come: at a thousand sessions each event would copy every session.
   */
  private get snapshot(): LabSnapshot {
    return this.fold();
  }

  private set snapshot(snapshot: LabSnapshot) {
    this.reduced = snapshot;
    this.unreduced = [];
  }

  private fold(): LabSnapshot {
    if (this.unreduced.length > 0) {
      this.reduced = reduceLive(this.reduced, this.unreduced);
      this.unreduced = [];
    }
    return this.reduced;
  }

  async close(): Promise<void> {
    await this.lab?.stop();
    this.lab = null;
    this.live.close();
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
    'traffic.start': async ({ clients, rate, call, clientsEra, modernShare }) =>
      nothing(this.need().startTraffic({ clients, rate, call: call && { tool: call.tool, args: call.args ?? {} }, clientsEra, modernShare })),
    'traffic.stop': async () => nothing(await this.need().stopTraffic()),
    'scenario.run': async ({ name }) => runScenarioOn(this.need(), name, () => this.events),
    'matrix.run': async (args) => {
      if (this.matrixRunning) throw new Error('the matrix is already running');
      const names = args?.scenarios ?? SCENARIO_NAMES;
      this.matrixRunning = true;
      try {
        // The lab as it is (else as it would start), server under test included, in every mode.
        return await runMatrix(names, { ...(this.lab?.config ?? this.defaults) }, {
          clients: args?.clients,
          onRow: (row) => this.record({ type: 'lab.log', at: Date.now(), level: 'info', message: `matrix: ${describeRow(row)}` }),
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
    'client.check': async ({ sessionId, clientName, faults, recoverWithinMs }) => this.need().checkClient({ sessionId, clientName }, { faults, recoverWithinMs }),
  };

  private status(): LabStatus | null {
    const lab = this.lab;
    if (!lab) return null;
    return {
      id: lab.id, ingressUrl: lab.ingressUrl, runtime: lab.runtimeNote, config: lab.config,
      pods: lab.pods(), replicas: lab.replicaList(), traffic: lab.trafficNow, server: lab.server,
    };
  }

  private need(): Lab {
    if (!this.lab) throw new Error('no lab is running: start one first (lab.start)');
    return this.lab;
  }

  private record(event: LabEvent): void {
    this.unreduced.push(event);
    if (this.unreduced.length >= FOLD_AT) this.fold();
    if (this.events.length < MAX_EVENTS) this.events.push(event);
    this.live.push(event);
  }
}

function nothing(_: unknown): null {
  return null;
}
