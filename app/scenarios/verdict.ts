import type { LabEvent } from '../events.ts';

/** What a scenario run shows, in numbers. */
export interface Verdict {
  /** Tool calls the simulated clients made. */
  requests: number;
  /** Calls that failed as the client saw them. */
  clientErrors: number;
  /** Re-initializations (one per session per generation; reused ones not counted). */
  recoveries: number;
  /** Calls whose session counter went back: state lost on re-initialization. */
  stateLosses: number;
  latencyMs: { p50: number; p99: number };
  /** The first few distinct client-visible errors, for the reader. */
  errorSamples: string[];
}

/** Computes a verdict from a lab's events alone. */
export function verdictOf(events: readonly LabEvent[]): Verdict {
  const latencies: number[] = [];
  let requests = 0;
  let clientErrors = 0;
  let recoveries = 0;
  let stateLosses = 0;
  const samples = new Set<string>();
  for (const event of events) {
    if (event.type === 'traffic.call') {
      requests++;
      latencies.push(event.latencyMs);
      if (!event.ok) {
        clientErrors++;
        if (samples.size < 5 && event.error) samples.add(event.error.slice(0, 200));
      }
      if (event.stateLost) stateLosses++;
    } else if (event.type === 'recovery.done' && !event.reused) {
      recoveries++;
    }
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number) => (latencies.length ? round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!) : 0);
  return { requests, clientErrors, recoveries, stateLosses, latencyMs: { p50: at(0.5), p99: at(0.99) }, errorSamples: [...samples] };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
