/**
 * The faults a client check aims at one client, and the verdict on each: one list for the
 * lab, the CLI, the API and the UI. Pure: the renderer imports it.
 */
export const CLIENT_FAULTS = [
  { name: 'session-expiry', description: 'its session expires (the lab forgets the record): the next request gets 404 — the client should re-initialize' },
  { name: 'status-400', description: 'its session expires and the proxy answers 400 instead of 404 (ToolHive\'s compatibility switch)' },
  // Before pod-death: a client whose GET stream died with its pod may have given up on it.
  { name: 'stream-cut', description: 'its GET stream is cut: the client should reconnect it' },
  { name: 'pod-death', description: 'its pod is killed with recovery off: nobody re-initializes for it' },
  { name: 'state-reset', description: 'its pod restarts in place with recovery on: the proxy re-initializes the session and its server state is gone' },
] as const;

export type ClientFault = (typeof CLIENT_FAULTS)[number]['name'];

export const CLIENT_FAULT_NAMES = CLIENT_FAULTS.map((f) => f.name) as [ClientFault, ...ClientFault[]];

/** `pinlab-client-N`: the lab's own simulated clients; every other name is an external client. */
export function isSimulatedClient(name: string): boolean {
  return /^pinlab-client-\d+$/.test(name);
}

/**
 * What the client did after the fault, as seen from the ingress:
 * - `re-initialized`: sent a new initialize, and its calls were answered on the new session;
 * - `reconnected`: opened its GET stream again on the same session;
 * - `fell-back`: went on with calls that carry no session (the 2026-07-28 era), answered;
 * - `unaffected`: kept its session, and its calls were answered again;
 * - `stuck`: kept failing until the time ran out;
 * - `silent`: sent nothing after the fault, so nothing can be told;
 * - `not-applicable`: the fault could not be aimed (no GET stream open, say);
 * - `skipped`: the client was not working before the fault.
 */
export type ClientOutcome = 're-initialized' | 'reconnected' | 'fell-back' | 'unaffected' | 'stuck' | 'silent' | 'not-applicable' | 'skipped';

/** The verdict on one fault aimed at one client. */
export interface ClientFaultVerdict {
  fault: ClientFault;
  verdict: 'pass' | 'fail' | 'n/a';
  outcome: ClientOutcome;
  /** The client's `clientInfo.name`. */
  client: string;
  /** The session the fault was aimed at; null when the check never found one. */
  sessionId: string | null;
  /** The session the client went on with after re-initializing. */
  newSessionId: string | null;
  /** From the first error the client saw (or the fault, when it saw none) to working again; null when it never did. */
  recoveredInMs: number | null;
  /** Calls (JSON-RPC requests, initialize aside) sent from the fault on. */
  calls: number;
  /** Of those, answered with an error (HTTP status, JSON-RPC error) or never answered. */
  callsFailed: number;
  /** Failed calls that were not sent again and answered: the work the client lost. */
  callsLost: number;
  /** What the failed calls got, most frequent first: `HTTP 404 ×3`, `JSON-RPC -32001 ×1`, `no answer ×1`. */
  saw: string[];
  /** What the client did, in a sentence. */
  detail: string;
  /** Epoch ms the fault began and the verdict was reached. */
  startedAt: number;
  endedAt: number;
}

/** A verdict in one line: `session-expiry  FAIL  stuck — …  (recovered in —, 41 call(s) lost)`. */
export function verdictLine(v: ClientFaultVerdict): string {
  const recovered = v.recoveredInMs === null ? '—' : seconds(v.recoveredInMs);
  return `${v.fault}: ${v.verdict.toUpperCase()} — ${v.outcome}: ${v.detail} (recovered in ${recovered}, ${v.callsLost} call(s) lost)`;
}

/** `1234` → `1.2 s`; under a second, `43 ms`. */
export function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
