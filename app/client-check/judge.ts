import type { IngressExchange } from '../ingress/ingress.ts';
import { seconds, type ClientFault, type ClientFaultVerdict, type ClientOutcome } from '../shared/client-faults.ts';

/** What was seen of one client while one fault played out: only what it sent and got back. */
export interface FaultWindow {
  fault: ClientFault;
  /** The client's `clientInfo.name`. */
  client: string;
  /** The session the fault was aimed at. */
  sessionId: string;
  /** Epoch ms the fault began. */
  startedAt: number;
  /** Epoch ms the fault was in place (a restarted pod ready again, say): calls from then on show what the client does about it. */
  injectedAt: number;
  /** The client's exchanges that ended from the fault on, in the order they ended. */
  exchanges: readonly IngressExchange[];
  /** Epoch ms the client opened a GET stream again after the fault; null when it did not. */
  reopenedAt: number | null;
  /** Re-initializations the proxy did for the client's session meanwhile (the client saw none of them). */
  proxyRecoveries: number;
  /** Epoch ms the window closed. */
  endedAt: number;
}

/** One call of the client (a JSON-RPC request, initialize aside) and how it ended. */
interface CallResult {
  /** Epoch ms it was sent and its exchange ended. */
  at: number;
  endedAt: number;
  sessionId: string | null;
  key: string;
  /** Null when answered; else what it got: `HTTP 404`, `JSON-RPC -32001`, `no answer`, `answer cut`. */
  failure: string | null;
}

/** Calls answered after the client recovered, before the verdict is taken as settled. */
const SETTLED_AFTER_CALLS = 2;

/**
 * The verdict on a fault from what the client did: re-initialized, reconnected, fell back,
 * kept working, or stuck — how long it took from the first error it saw, and which of its
 * failed calls it never sent again with success (lost). Pure.
 */
export function judge(window: FaultWindow): ClientFaultVerdict {
  const reading = read(window);
  const { results, failures, reinit, outcome, recoveredAt } = reading;
  const firstFailure = failures[0]?.endedAt ?? null;
  const lost = failures.filter((f) => !results.some((r) => r.failure === null && r.key === f.key && r.endedAt >= f.endedAt));
  const saw = tally(failures.map((f) => f.failure!));
  const from = window.fault === 'stream-cut' ? window.startedAt : (firstFailure ?? window.startedAt);
  const recoveredInMs = recoveredAt === null ? null : failures.length === 0 && window.fault !== 'stream-cut' ? 0 : Math.max(0, recoveredAt - from);
  return {
    fault: window.fault,
    verdict: outcome === 'stuck' ? 'fail' : outcome === 'silent' ? 'n/a' : 'pass',
    outcome,
    client: window.client,
    sessionId: window.sessionId,
    newSessionId: reinit?.answeredSessionId ?? null,
    recoveredInMs,
    calls: results.length,
    callsFailed: failures.length,
    callsLost: lost.length,
    saw,
    detail: detail(window, reading, saw, firstFailure),
    startedAt: window.startedAt,
    endedAt: window.endedAt,
  };
}

/**
 * Whether the client has visibly got over the fault — its stream back, or calls answered
 * after its last error — so the window may close before its time runs out.
 */
export function settled(window: FaultWindow): boolean {
  const { results, failures, reinit, outcome } = read(window);
  if (window.fault === 'stream-cut') return outcome === 'reconnected';
  if (outcome !== 're-initialized' && outcome !== 'fell-back' && outcome !== 'unaffected') return false;
  const after = Math.max(window.injectedAt, failures.at(-1)?.endedAt ?? 0, reinit?.endedAt ?? 0);
  return results.filter((r) => r.failure === null && r.at >= after).length >= SETTLED_AFTER_CALLS;
}

interface Reading {
  results: CallResult[];
  failures: CallResult[];
  reinit: IngressExchange | null;
  outcome: ClientOutcome;
  /** Epoch ms the client worked again; null when it did not. */
  recoveredAt: number | null;
}

function read(window: FaultWindow): Reading {
  const results = window.exchanges.flatMap(callResults).sort((a, b) => a.endedAt - b.endedAt);
  const failures = results.filter((r) => r.failure !== null);
  const ok = (r: CallResult) => r.failure === null;
  const reinit = window.exchanges.find((ex) => ex.initialize && ex.clientInfo?.name === window.client && is2xx(ex.status) && ex.answeredSessionId !== null) ?? null;
  const base = { results, failures, reinit };
  if (window.fault === 'stream-cut' && window.reopenedAt !== null) return { ...base, outcome: 'reconnected', recoveredAt: window.reopenedAt };
  const onNew = reinit && results.find((r) => ok(r) && r.sessionId === reinit.answeredSessionId && r.endedAt >= reinit.endedAt!);
  if (onNew) return { ...base, outcome: 're-initialized', recoveredAt: onNew.endedAt };
  if (window.fault !== 'stream-cut') {
    const lastFailure = failures.at(-1)?.endedAt ?? -Infinity;
    const sessionless = failures.length > 0 && results.find((r) => ok(r) && r.sessionId === null && r.endedAt > lastFailure);
    if (sessionless) return { ...base, outcome: 'fell-back', recoveredAt: sessionless.endedAt };
    const kept = results.find((r) => ok(r) && r.sessionId === window.sessionId && r.endedAt > lastFailure && r.at >= window.injectedAt);
    if (kept) return { ...base, outcome: 'unaffected', recoveredAt: kept.endedAt };
  }
  if (results.length === 0 && !reinit) return { ...base, outcome: 'silent', recoveredAt: null };
  return { ...base, outcome: 'stuck', recoveredAt: null };
}

function callResults(ex: IngressExchange): CallResult[] {
  return ex.calls.filter((call) => call.method !== 'initialize').map((call) => {
    const rpcError = ex.rpcErrors.find((e) => e.id === call.id);
    const failure = ex.status === null ? 'no answer'
      : !is2xx(ex.status) ? `HTTP ${ex.status}`
        : rpcError ? `JSON-RPC ${rpcError.code ?? 'error'}`
          : !ex.complete ? 'answer cut'
            : null;
    return { at: ex.at, endedAt: ex.endedAt ?? ex.at, sessionId: ex.sessionId, key: call.key, failure };
  });
}

function detail(window: FaultWindow, reading: Reading, saw: string[], firstFailure: number | null): string {
  const { results, failures, reinit, outcome, recoveredAt } = reading;
  const got = saw.join(', ') || 'no answer';
  const answered = results.filter((r) => r.failure === null).length;
  switch (outcome) {
    case 'reconnected':
      return `reopened its GET stream ${seconds(recoveredAt! - window.startedAt)} after the cut`;
    case 're-initialized': {
      const after = firstFailure === null ? `${seconds(reinit!.endedAt! - window.startedAt)} after the fault` : `${seconds(reinit!.endedAt! - firstFailure)} after its first error`;
      return `${failures.length ? `got ${got}, then ` : ''}sent a new initialize ${after}; its calls were answered on the new session`;
    }
    case 'fell-back':
      return `got ${got}, then went on without a session (2026-07-28 requests), answered`;
    case 'unaffected': {
      const kept = failures.length ? `kept its session after ${got}` : 'kept its session and saw no error';
      return window.proxyRecoveries > 0
        ? `${kept}: the proxy re-initialized it on the server (its state there is gone), and nothing the client sent shows it noticed`
        : `${kept}: its calls were answered again`;
    }
    case 'silent':
      return `sent no call in ${seconds(window.endedAt - window.startedAt)}: a client under check must keep calling (a loop)`;
    case 'stuck':
      return window.fault === 'stream-cut'
        ? `never reopened its GET stream in ${seconds(window.endedAt - window.startedAt)} (${answered} call(s) answered meanwhile)`
        : `got ${got} for ${seconds(window.endedAt - (firstFailure ?? window.startedAt))} and never re-initialized`;
    case 'not-applicable':
    case 'skipped':
      return outcome;
  }
}

/** `['HTTP 404', 'HTTP 404', 'no answer']` → `['HTTP 404 ×2', 'no answer ×1']`. */
function tally(labels: string[]): string[] {
  const counts = new Map<string, number>();
  for (const label of labels) counts.set(label, (counts.get(label) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([label, n]) => `${label} ×${n}`);
}

function is2xx(status: number | null): boolean {
  return status !== null && status >= 200 && status < 300;
}
