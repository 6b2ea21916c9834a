import { setTimeout as sleep } from 'node:timers/promises';
import type { LabEvent } from '../events.ts';
import type { ClientInfo } from '../ingress/client-peek.ts';
import type { IngressExchange, IngressObserver } from '../ingress/ingress.ts';
import type { PodInfo } from '../pods/runtime.ts';
import { CLIENT_FAULT_NAMES, CLIENT_FAULTS, seconds, type ClientFault, type ClientFaultVerdict, type ClientOutcome } from '../shared/client-faults.ts';
import { shortId } from '../shared/names.ts';
import { judge, settled, type FaultWindow } from './judge.ts';
import type { ClientRegistry } from './registry.ts';

/** What a client check needs of a lab: its clients, the ingress's view, and the switches it breaks things with. */
export interface CheckableLab {
  readonly clients: ClientRegistry;
  readonly config: { readonly recovery: boolean };
  watch(listener: (event: LabEvent) => void): () => void;
  observeIngress(observer: IngressObserver): () => void;
  forgetSession(sessionId: string): Promise<void>;
  setUnknownSessionStatus(status: 404 | 400): void;
  setRecovery(on: boolean): void;
  killPod(name: string): Promise<void>;
  restartPod(name: string): Promise<void>;
  pods(): PodInfo[];
  cutStreams(sessionId: string): number;
  openStreams(sessionId: string): number;
}

/** The client to check: by a session it opened, or by its `clientInfo.name` (its newest session). */
export interface ClientCheckTarget {
  sessionId?: string;
  clientName?: string;
}

export interface ClientCheckOptions {
  /** The faults, one after another (default: all, in catalog order). */
  faults?: readonly ClientFault[];
  /** How long the client has to get over each fault (default 10 s). */
  recoverWithinMs?: number;
  /** How long the client has to show it works (a call answered) before each fault (default 15 s). */
  readyWithinMs?: number;
  /**
   * Starts the client afresh (the CLI runs it as a program): used when it is still broken
   * from the last fault, so that the next fault finds it working. Without it, that fault is skipped.
   */
  restartClient?: () => Promise<void>;
  onVerdict?: (verdict: ClientFaultVerdict) => void;
  onProgress?: (message: string) => void;
}

export interface ClientCheckResult {
  client: ClientInfo;
  verdicts: ClientFaultVerdict[];
}

export const CHECK_DEFAULTS = { recoverWithinMs: 10_000, readyWithinMs: 15_000 } as const;

/** How long a stream-cut waits for the client's GET stream to be open before saying it has none. */
const STREAM_WAIT_MS = 3000;

/**
 * Aims each fault at one client's session while the client keeps calling, and judges what
 * the client does about it from what it sends through the ingress alone. Between faults the
 * lab's switches are put back as they were.
 */
export async function checkClient(lab: CheckableLab, target: ClientCheckTarget, options: ClientCheckOptions = {}): Promise<ClientCheckResult> {
  const { name, sessionId } = resolveTarget(lab.clients, target);
  const client = lab.clients.clientOf(sessionId)!.clientInfo;
  const recoverWithinMs = options.recoverWithinMs ?? CHECK_DEFAULTS.recoverWithinMs;
  const readyWithinMs = options.readyWithinMs ?? CHECK_DEFAULTS.readyWithinMs;
  const watch = new ClientWatch(lab, name, sessionId);
  const verdicts: ClientFaultVerdict[] = [];
  try {
    for (const fault of options.faults ?? CLIENT_FAULT_NAMES) {
      // A stream-cut needs a stream to cut: one the client gave up on (after a pod died, say) is no answer.
      const ready = async () => {
        const works = await watch.working(readyWithinMs);
        return { works, stream: fault !== 'stream-cut' || (works && (await streamOpen(lab, watch))) };
      };
      // A client left stuck by the last fault is not waited for: it said what it does.
      const stuck = verdicts.at(-1)?.outcome === 'stuck';
      let state = stuck && options.restartClient ? { works: false, stream: false } : await ready();
      if (!(state.works && state.stream) && options.restartClient) {
        const why = stuck ? 'is stuck since the last fault' : state.works ? 'holds no GET stream' : 'has no call answered';
        options.onProgress?.(`client check of ${name}: the client ${why}; starting it again`);
        await options.restartClient();
        state = await ready();
      }
      options.onProgress?.(`client check of ${name}: ${fault} — ${CLIENT_FAULTS.find((f) => f.name === fault)!.description}`);
      const verdict = !state.works
        ? unjudged(fault, name, watch.session, 'skipped', `the client had no call answered in ${seconds(readyWithinMs)} before this fault`)
        : !state.stream
          ? unjudged(fault, name, watch.session, 'not-applicable', 'the client held no GET stream open on its session (it may use none, or the server refused it)')
          : await runFault(lab, watch, fault, recoverWithinMs);
      verdicts.push(verdict);
      options.onVerdict?.(verdict);
    }
  } finally {
    watch.close();
  }
  return { client, verdicts };
}

function resolveTarget(clients: ClientRegistry, target: ClientCheckTarget): { name: string; sessionId: string } {
  const known = () => {
    const names = clients.clients().filter((c) => !c.simulated).map((c) => c.clientInfo.name);
    return names.length ? `clients seen: ${names.join(', ')}` : 'no client from outside has opened one yet';
  };
  let name = target.clientName;
  if (target.sessionId) {
    const seen = clients.clientOf(target.sessionId);
    if (!seen) throw new Error(`no client opened session ${shortId(target.sessionId)} through the ingress (${known()})`);
    if (name && name !== seen.clientInfo.name) throw new Error(`session ${shortId(target.sessionId)} was opened by ${seen.clientInfo.name}, not ${name}`);
    name = seen.clientInfo.name;
  }
  if (!name) throw new Error('name the client to check: a session it opened (sessionId) or its clientInfo name (clientName)');
  const sessionId = clients.sessionsOf(name).at(-1);
  if (!sessionId) throw new Error(`no client named "${name}" has opened a session through the ingress (${known()})`);
  return { name, sessionId };
}

async function runFault(lab: CheckableLab, watch: ClientWatch, fault: ClientFault, recoverWithinMs: number): Promise<ClientFaultVerdict> {
  const sessionId = watch.session;
  watch.reset(Date.now());
  const restore: (() => void)[] = [];
  try {
    switch (fault) {
      case 'session-expiry':
        await lab.forgetSession(sessionId);
        break;
      case 'status-400':
        lab.setUnknownSessionStatus(400);
        restore.push(() => lab.setUnknownSessionStatus(404));
        await lab.forgetSession(sessionId);
        break;
      case 'stream-cut':
        lab.cutStreams(sessionId);
        break;
      case 'pod-death':
      case 'state-reset': {
        const pod = podOf(lab, sessionId);
        if (!pod) return unjudged(fault, watch.name, sessionId, 'not-applicable', 'the lab does not know which pod holds the session');
        // A pod that dies is left unrecovered; one restarted in place is recovered by the proxy, its state gone.
        const recovery = lab.config.recovery;
        lab.setRecovery(fault === 'state-reset');
        restore.push(() => lab.setRecovery(recovery));
        await (fault === 'pod-death' ? lab.killPod(pod.name) : lab.restartPod(pod.name));
        break;
      }
    }
    const injectedAt = Date.now();
    const deadline = injectedAt + recoverWithinMs;
    while (Date.now() < deadline && !settled(watch.window(fault, sessionId, injectedAt))) await sleep(100);
    return judge(watch.window(fault, sessionId, injectedAt));
  } finally {
    for (const undo of restore) undo();
  }
}

/** Whether the client's newest session has a GET stream open (waiting a little for one). */
async function streamOpen(lab: CheckableLab, watch: ClientWatch): Promise<boolean> {
  const deadline = Date.now() + STREAM_WAIT_MS;
  while (lab.openStreams(watch.session) === 0) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/** The pod the session is on now, alive. */
function podOf(lab: CheckableLab, sessionId: string): PodInfo | undefined {
  const address = lab.clients.podOf(sessionId);
  return lab.pods().find((p) => p.address === address && p.state !== 'dead');
}

function unjudged(fault: ClientFault, client: string, sessionId: string | null, outcome: ClientOutcome, detail: string): ClientFaultVerdict {
  const now = Date.now();
  return {
    fault, verdict: 'n/a', outcome, client, sessionId, newSessionId: null, recoveredInMs: null,
    calls: 0, callsFailed: 0, callsLost: 0, saw: [], detail, startedAt: now, endedAt: now,
  };
}

/**
 * One client, followed through the ingress by its name and the sessions it opens: its
 * exchanges since the fault began, its GET streams opening again, the proxy's recoveries of
 * its sessions, and whether it works (a call of its newest session answered).
 */
class ClientWatch {
  readonly name: string;
  /** Its newest session. */
  session: string;
  private readonly sessions: Set<string>;
  private since = 0;
  private exchanges: IngressExchange[] = [];
  private reopenedAt: number | null = null;
  private recoveries = 0;
  private lastAnswered: { at: number; sessionId: string | null } | null = null;
  private readonly stops: (() => void)[];

  constructor(lab: CheckableLab, name: string, sessionId: string) {
    this.name = name;
    this.session = sessionId;
    this.sessions = new Set(lab.clients.sessionsOf(name));
    this.stops = [
      lab.observeIngress((phase, exchange) => this.exchanged(phase, exchange)),
      lab.watch((event) => this.event(event)),
    ];
  }

  close(): void {
    for (const stop of this.stops.splice(0)) stop();
  }

  /** Starts a new window: what came before is forgotten. */
  reset(since: number): void {
    this.since = since;
    this.exchanges = [];
    this.reopenedAt = null;
    this.recoveries = 0;
  }

  window(fault: ClientFault, sessionId: string, injectedAt: number): FaultWindow {
    return {
      fault, client: this.name, sessionId, startedAt: this.since, injectedAt, exchanges: [...this.exchanges],
      reopenedAt: this.reopenedAt, proxyRecoveries: this.recoveries, endedAt: Date.now(),
    };
  }

  /** Resolves true once a call of its newest session is answered from now on; false after `timeoutMs`. */
  async working(timeoutMs: number): Promise<boolean> {
    const from = Date.now();
    while (Date.now() - from < timeoutMs) {
      const last = this.lastAnswered;
      if (last && last.at >= from && last.sessionId === this.session) return true;
      await sleep(50);
    }
    return false;
  }

  private owns(exchange: IngressExchange): boolean {
    return exchange.clientInfo?.name === this.name || (exchange.sessionId !== null && this.sessions.has(exchange.sessionId));
  }

  private exchanged(phase: 'head' | 'end', exchange: IngressExchange): void {
    if (!this.owns(exchange)) return;
    if (phase === 'head') {
      if (exchange.httpMethod === 'GET' && exchange.status === 200 && exchange.at >= this.since) this.reopenedAt ??= Date.now();
      return;
    }
    if (exchange.endedAt! >= this.since) this.exchanges.push(exchange);
    const answered = exchange.calls.some((c) => c.method !== 'initialize') && exchange.complete
      && exchange.status !== null && exchange.status >= 200 && exchange.status < 300 && exchange.rpcErrors.length === 0;
    if (answered) this.lastAnswered = { at: exchange.endedAt!, sessionId: exchange.sessionId };
  }

  private event(event: LabEvent): void {
    if (event.type === 'client.seen' && event.clientInfo.name === this.name && event.sessionId) {
      this.sessions.add(event.sessionId);
      this.session = event.sessionId;
    } else if (event.type === 'recovery.done' && this.sessions.has(event.sessionId) && event.at >= this.since) {
      this.recoveries++;
    }
  }
}
