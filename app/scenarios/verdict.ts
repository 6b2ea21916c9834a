import type { LabEvent } from '../events.ts';
import { callOutcome, countCall, NO_CALLS, type CallCounts } from '../shared/call-outcome.ts';

/**
 * What a scenario run shows, in numbers. Client-visible errors come split (see CallCounts):
 * `recoverableErrors` must be 0 with pod pinning, Redis and recovery; `unknownOutcome` counts
 * calls in flight on a pod that died or hung, not safe to repeat (the demo's `counter`), that
 * the proxy honestly answered "may or may not have run"; `clientErrors` is their sum.
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
  /** The first few distinct client-visible errors, recoverable ones first, for the reader. */
  errorSamples: string[];
}

export interface VerdictOptions {
  /**
   * Whether the pods ran the demo backend (its counter is the state-loss probe). When not
   * given, the `server.identified` event among `events` says; without one, as on the demo.
   */
  demo?: boolean;
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
  const samples = { 'recoverable-error': new Set<string>(), 'unknown-outcome': new Set<string>() };
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
    errorSamples: [...samples['recoverable-error'], ...samples['unknown-outcome']].slice(0, SAMPLES),
  };
}

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
