import type { LabEvent } from '../events.ts';

/** What a scenario run shows, in numbers. */
export interface Verdict {
  /** Tool calls the simulated clients made. */
  requests: number;
  /** Calls that failed as the client saw them. */
  clientErrors: number;
  /** Re-initializations (one per session per generation; reused ones not counted). */
  recoveries: number;
  /**
   * Sessions whose state the server lost: on the demo backend, calls whose session counter
   * went back; on any other server (no such probe) each re-initialization, which starts the
   * session afresh on its new pod.
   */
  stateLosses: number;
  /** Calls that succeeded without a session (a stateless server): spread by the service, not errors. */
  sessionless: number;
  latencyMs: { p50: number; p99: number };
  /** The first few distinct client-visible errors, for the reader. */
  errorSamples: string[];
}

export interface VerdictOptions {
  /**
   * Whether the pods ran the demo backend (its counter is the state-loss probe). When not
   * given, the `server.identified` event among `events` says; without one, as on the demo.
   */
  demo?: boolean;
}

/** Computes a verdict from a lab's events alone. */
export function verdictOf(events: readonly LabEvent[], options: VerdictOptions = {}): Verdict {
  const identified = events.find((e) => e.type === 'server.identified');
  const demo = options.demo ?? (identified ? identified.server.kind === 'demo' : true);
  const latencies: number[] = [];
  let requests = 0;
  let clientErrors = 0;
  let recoveries = 0;
  let stateLosses = 0;
  let sessionless = 0;
  const samples = new Set<string>();
  for (const event of events) {
    if (event.type === 'traffic.call') {
      requests++;
      latencies.push(event.latencyMs);
      if (!event.ok) {
        clientErrors++;
        if (samples.size < 5 && event.error) samples.add(event.error.slice(0, 200));
      } else if (event.sessionId === null) {
        sessionless++;
      }
      if (event.stateLost && demo) stateLosses++;
    } else if (event.type === 'recovery.done' && !event.reused) {
      recoveries++;
      if (!demo) stateLosses++;
    }
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number) => (latencies.length ? round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!) : 0);
  return { requests, clientErrors, recoveries, stateLosses, sessionless, latencyMs: { p50: at(0.5), p99: at(0.99) }, errorSamples: [...samples] };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
