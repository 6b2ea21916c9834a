import { availableParallelism, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { messageOf } from '../../proxy-core/errors.ts';
import type { RuntimeChoice } from '../config.ts';
import type { LabEvent } from '../events.ts';
import { Lab } from '../lab.ts';
import { DEFAULT_SOCKET } from '../pods/docker-runtime.ts';
import { CHAOS_SCHEDULE, runChaos, type ChaosCounts, type ChaosSchedule } from './chaos.ts';
import { PodWitness, type Leftovers } from './leftovers.ts';
import { FailureStories, type FailureStory } from './stories.ts';
import { SoakTally, type SoakFigures } from './tally.ts';

/** How big a soak is; every field but `minutes` has a default (SOAK_DEFAULTS). */
export interface SoakOptions {
  /** How long the clients run under chaos. */
  minutes: number;
  /** Simulated SDK clients through the ingress (default 50). */
  clients?: number;
  /**
   * Tool calls per second per client (default 2: 100 calls/s from 50 clients, which a 2-core
   * machine carries with the replicas, the clients and the pods on it).
   */
  rate?: number;
  /** Proxy replicas (default 3: one restarts every 5 s, two keep serving). */
  replicas?: number;
  /**
   * Pods the lab's controller keeps (default 5: with a kill every 2 s, a replacement starting
   * and a 5 s pause every 7 s, fewer would often leave a single pod to take every session).
   */
  pods?: number;
  /** Docker by default; processes where Docker does not answer (said in `runtimeNote`). */
  runtime?: RuntimeChoice;
  schedule?: ChaosSchedule;
  /** Progress for a person watching: a line every 30 s, and the lab's warnings. */
  onProgress?: (line: string) => void;
}

export interface SoakResult {
  labId: string;
  minutes: number;
  clients: number;
  rate: number;
  replicas: number;
  pods: number;
  runtime: 'docker' | 'process';
  /** Where the pods ran, and why (Docker, or processes because Docker did not answer). */
  runtimeNote: string;
  figures: SoakFigures;
  chaos: ChaosCounts;
  /** Pods the lab ran in all: the first ones and every replacement. */
  podsRun: number;
  /**
   * The resident memory of this process — the lab: proxy replicas, ingress and the simulated
   * clients all run in it — after the lab started, at the end before it stopped, and the peak.
   */
  rssMiB: { start: number; end: number; peak: number };
  /** CPU time of this process over the soak, as a share of one core (100 = one core busy throughout). */
  labCpuPercent: number;
  /**
   * The machine: its cores, and its 1-minute load average at the start and the end. A soak
   * shares the machine with whatever else runs: a load far above the cores skews every figure.
   */
  machine: { cores: number; loadStart: number; loadEnd: number };
  leftovers: Leftovers;
  /** Why the soak failed; empty when it passed (no recoverable error, nothing left behind). */
  problems: string[];
  /** The first sessions that failed, each told by its events and the lab's around them. */
  stories: FailureStory[];
}

export const SOAK_DEFAULTS = { minutes: 10, clients: 50, rate: 2, replicas: 3, pods: 5 } as const;

/** After the chaos ends, the clients run this long, so that the last recoveries are counted. */
const SETTLE_MS = 3000;
const PROGRESS_EVERY_MS = 30_000;
/** The lab's own warnings passed on as progress, at most (a Redis outage can make many). */
const MAX_WARNINGS = 40;
/** A replica's log line of one of its events (`replica-2: inflight.ended`): the tally counts the events themselves. */
const REPLICA_EVENT_LOG = /^replica-\d+: [a-z]+(\.[a-z]+)+$/;

/**
 * A soak: a lab on Docker (or processes) with `clients` SDK clients through the ingress for
 * `minutes`, while pods are killed and paused, replicas restarted and Redis restarted (see
 * CHAOS_SCHEDULE). Answers what the clients saw and what the lab left after it stopped.
 */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const o = { ...SOAK_DEFAULTS, runtime: 'auto' as RuntimeChoice, schedule: CHAOS_SCHEDULE, ...options };
  const progress = o.onProgress ?? (() => {});
  const { runtime, fallback } = await chooseRuntime(o.runtime);
  const tally = new SoakTally();
  const stories = new FailureStories();
  let warnings = 0;
  const onEvent = (event: LabEvent) => {
    tally.add(event);
    stories.add(event);
    if (event.type === 'lab.log' && event.level !== 'info' && !REPLICA_EVENT_LOG.test(event.message) && warnings++ < MAX_WARNINGS) {
      progress(`lab ${event.level}: ${event.message}`);
    }
  };
  const lab = await Lab.start({ runtime, replicas: o.replicas, pods: o.pods, store: 'redis', ingressPort: 0 }, { onEvent });
  const runtimeNote = fallback ? `${fallback}: pods run as local processes instead` : lab.runtimeNote;
  progress(`lab ${lab.id}: ${o.replicas} replicas, ${o.pods} pods, ${runtimeNote}`);
  const witness = new PodWitness(runtime);
  const rss = { start: rssMiB(), end: 0, peak: 0 };
  rss.peak = rss.start;
  const loadStart = loadavg()[0]!;
  const cpu = process.cpuUsage();
  const stopWatching = witness.watch(() => lab.pods());
  const started = Date.now();
  const timers = [
    setInterval(() => (rss.peak = Math.max(rss.peak, rssMiB())), 1000),
    setInterval(() => progress(progressLine(tally.result(), started)), PROGRESS_EVERY_MS),
  ];
  let chaos: ChaosCounts;
  let cpuPercent: number;
  try {
    lab.startTraffic({ clients: o.clients, rate: o.rate });
    chaos = await runChaos(lab, started + o.minutes * 60_000, o.schedule);
    await sleep(SETTLE_MS);
    await lab.stopTraffic();
    rss.end = rssMiB();
    const used = process.cpuUsage(cpu);
    cpuPercent = Math.round(((used.user + used.system) / 1000 / (Date.now() - started)) * 100);
    witness.record(lab.pods());
  } finally {
    for (const timer of timers) clearInterval(timer);
    stopWatching();
    await lab.stop();
  }
  rss.peak = Math.max(rss.peak, rss.end);
  const leftovers = await witness.leftovers(lab.id);
  const figures = tally.result();
  progress(progressLine(figures, started));
  return {
    labId: lab.id, minutes: o.minutes, clients: o.clients, rate: o.rate, replicas: o.replicas, pods: o.pods, runtime, runtimeNote,
    figures, chaos, podsRun: witness.pods, rssMiB: rss, labCpuPercent: cpuPercent,
    machine: { cores: availableParallelism(), loadStart: round1(loadStart), loadEnd: round1(loadavg()[0]!) },
    leftovers, problems: problemsOf(figures, leftovers), stories: stories.stories(),
  };
}

/** What makes a soak fail: an error a client should never have seen, or anything left running. */
function problemsOf(figures: SoakFigures, left: Leftovers): string[] {
  const problems: string[] = [];
  if (figures.recoverableErrors > 0) problems.push(`${figures.recoverableErrors} recoverable error(s) reached the clients`);
  if (left.containers) problems.push(`${left.containers} container(s) left after stop`);
  if (left.processes) problems.push(`${left.processes} pod process(es) left after stop`);
  if (left.pidFiles) problems.push(`${left.pidFiles} pod pid file(s) left after stop`);
  return problems;
}

/** Docker unless told otherwise or it does not answer; then processes, and why. */
async function chooseRuntime(choice: RuntimeChoice): Promise<{ runtime: 'docker' | 'process'; fallback: string | null }> {
  if (choice !== 'auto') return { runtime: choice, fallback: null };
  try {
    await new Docker({ socketPath: DEFAULT_SOCKET, timeout: 2000 }).ping();
    return { runtime: 'docker', fallback: null };
  } catch (error) {
    return { runtime: 'process', fallback: `Docker is not reachable at ${DEFAULT_SOCKET} (${messageOf(error)})` };
  }
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function rssMiB(): number {
  return Math.round(process.memoryUsage().rss / 1024 / 1024);
}

function progressLine(f: SoakFigures, started: number): string {
  const recoveries = Object.values(f.recoveries).reduce((a, b) => a + b, 0);
  return `t+${Math.round((Date.now() - started) / 1000)}s: ${f.calls} calls, ${f.recoverableErrors} recoverable errors, ${f.unknownOutcomes} unknown outcomes, ${recoveries} recoveries, longest wait ${Math.round(f.longestWaitMs)} ms, lab RSS ${rssMiB()} MiB`;
}
