import type { LabEvent } from '../events.ts';
import { handleLeaksOf } from '../handles/leak-detector.ts';
import { callOutcome, countCall, NO_CALLS, type CallCounts } from '../shared/call-outcome.ts';
import { pileUpOf, type PileUp, type PodLoad } from '../shared/pile-up.ts';

/**
 * What a scenario run shows, in numbers. Client-visible errors come split (see CallCounts):
 * `recoverableErrors` must be 0 with pod pinning, Redis and recovery; `unknownOutcome` counts
 * calls in flight on a pod that died or hung, not safe to repeat (the demo's `counter`), that
 * the proxy honestly answered "may or may not have run"; `handleLeaks` calls that carried a
 * handle another pod minted (the server's per-pod state: no routing fixes it); `clientErrors`
 * is the sum.
 */
export interface Verdict extends CallCounts {
  /** Tool calls the simulated clients made. */
  requests: number;
  /** Re-initializations (one per session per generation; reused ones not counted). */
  recoveries: number;
  /**
   * Sessions whose state the server lost: on the demo backend, calls whose session counter
   * went back; on any other server (no such probe) each re-initialization, which starts the
   * session afresh on its new pod.
   */
  stateLosses: number;
  latencyMs: { p50: number; p99: number };
  /**
   * One pod holding most of the run's sessions (legacy, pinned at its end) or of its modern
   * requests while other pods were up (app/shared/pile-up.ts); null when the load was spread.
   */
  pileUp: PileUp | null;
  /** The first few distinct client-visible errors, recoverable ones first, for the reader. */
  errorSamples: string[];
}

export interface VerdictOptions {
  /**
   * Whether the pods ran the demo backend (its counter is the state-loss probe). When not
   * given, the `server.identified` event among `events` says; without one, as on the demo.
   */
  demo?: boolean;
  /**
   * Pods up at the end of the run, for the pile-up rule. When not given, the last
   * `service.endpoints` event among `events` says; without one, the pods the events name.
   */
  podsUp?: number;
}

const SAMPLES = 5;

/** Computes a verdict from a lab's events alone. */
export function verdictOf(events: readonly LabEvent[], options: VerdictOptions = {}): Verdict {
  const identified = events.find((e) => e.type === 'server.identified');
  const demo = options.demo ?? (identified ? identified.server.kind === 'demo' : true);
  const latencies: number[] = [];
  let counts = NO_CALLS;
  let recoveries = 0;
  let stateLosses = 0;
  const samples = { 'recoverable-error': new Set<string>(), 'handle-leak': new Set<string>(), 'unknown-outcome': new Set<string>() };
  for (const event of events) {
    if (event.type === 'traffic.call') {
      latencies.push(event.latencyMs);
      counts = countCall(counts, event);
      const outcome = callOutcome(event);
      if (outcome !== 'ok' && event.error && samples[outcome].size < SAMPLES) samples[outcome].add(event.error.slice(0, 200));
      if (event.stateLost && demo) stateLosses++;
    } else if (event.type === 'recovery.done' && !event.reused) {
      recoveries++;
      if (!demo) stateLosses++;
    }
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number) => (latencies.length ? round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!) : 0);
  return {
    requests: latencies.length, ...counts, recoveries, stateLosses, latencyMs: { p50: at(0.5), p99: at(0.99) },
    // The `handle.leak` events, the ones the timeline tells: also right for events recorded before calls were marked.
    handleLeaks: handleLeaksOf(events), pileUp: pileUpOfEvents(events, options.podsUp),
    errorSamples: [...samples['recoverable-error'], ...samples['handle-leak'], ...samples['unknown-outcome']].slice(0, SAMPLES),
  };
}

/**
 * Where a run's load went, from its events alone: sessions pinned at its end, by the pod the
 * proxy recorded (`session.created`, moved by `recovery.done`, gone with `session.deleted`),
 * and modern requests by the pod that served each (`request.routed`). Pods by name where a
 * `pod.changed` among the events says which address is which.
 */
function pileUpOfEvents(events: readonly LabEvent[], podsUp: number | undefined): PileUp | null {
  const pinned = new Map<string, string>();
  const loads = new Map<string, PodLoad>();
  const names = new Map<string, string>();
  let endpoints: number | null = null;
  const load = (address: string) => {
    let entry = loads.get(address);
    if (!entry) loads.set(address, (entry = { pod: address, sessions: 0, modernRequests: 0 }));
    return entry;
  };
  for (const event of events) {
    if (event.type === 'session.created') pinned.set(event.sessionId, event.pod);
    else if (event.type === 'recovery.done') pinned.set(event.sessionId, event.toPod);
    else if (event.type === 'session.deleted') pinned.delete(event.sessionId);
    else if (event.type === 'request.routed' && event.era === 'modern' && event.pod !== null && event.pod !== SERVICE_POD) load(event.pod).modernRequests++;
    else if (event.type === 'service.endpoints') endpoints = event.endpoints.length;
    else if (event.type === 'pod.changed' && event.address) names.set(event.address, event.pod);
  }
  for (const address of pinned.values()) load(address).sessions++;
  const named = [...loads.values()].map((entry) => ({ ...entry, pod: names.get(entry.pod) ?? entry.pod }));
  return pileUpOf({ loads: named, podsUp: podsUp ?? endpoints ?? named.length });
}

/** What the proxy records as the pod of a request no pod was reached for. */
const SERVICE_POD = 'service';

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/**
 * The verdict in one line: PASS when no client saw a recoverable error. Calls answered
 * "outcome unknown" are said beside it: the honest answer for a call that is not safe to
 * repeat, in flight on a pod that died or hung.
 */
export function verdictLine(v: Pick<Verdict, 'recoverableErrors' | 'unknownOutcome'>): string {
  const unknown = v.unknownOutcome ? ` (${plural(v.unknownOutcome, 'call')} in flight answered "outcome unknown")` : '';
  return v.recoverableErrors === 0
    ? `PASS — no recoverable error${unknown}`
    : `FAIL — ${plural(v.recoverableErrors, 'recoverable error')} seen by the clients${unknown}`;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
