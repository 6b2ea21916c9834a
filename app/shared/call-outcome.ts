/**
 * The proxy's JSON-RPC answer to a call that was under way on a pod that died or hung and was
 * not safe to repeat: "the call may or may not have run". proxy-core's `UNKNOWN_OUTCOME`
 * (proxy-core/jsonrpc.ts), written again here because the UI cannot import proxy-core; a
 * test holds the two equal.
 */
export const UNKNOWN_OUTCOME_CODE = -32050;

/** A call that waited longer than this for its answer is slow (the verdict counts them). */
export const SLOW_CALL_MS = 5000;

/** Calls waiting on a pod longer than this are highlighted on screen: a healthy pod answers well within it. */
export const LATE_WAIT_MS = 2000;

/**
 * What a client's call came to: `ok`; `unknown-outcome` — the proxy's honest answer for a call
 * in flight on a pod that died or hung, not safe to repeat (correct behaviour, not a routing
 * failure); `handle-leak` — it carried a handle another pod minted, and this pod did not know
 * it (the server keeps handle state in pod memory: no routing can fix that, only the server);
 * `recoverable-error` — anything else that failed: what pod pinning, a shared store and
 * recovery exist to keep at zero (session not found, 502…).
 */
export type CallOutcome = 'ok' | 'unknown-outcome' | 'handle-leak' | 'recoverable-error';

export function callOutcome(call: { ok: boolean; rpcCode: number | null; handleLeak?: true }): CallOutcome {
  if (call.ok) return 'ok';
  if (call.handleLeak) return 'handle-leak';
  return call.rpcCode === UNKNOWN_OUTCOME_CODE ? 'unknown-outcome' : 'recoverable-error';
}

/** What the clients' calls came to, counted the same way by the verdict and the live snapshot. */
export interface CallCounts {
  /** Calls that failed as the client saw them: `recoverableErrors` + `unknownOutcome` + `handleLeaks`. */
  clientErrors: number;
  /** Calls that failed because they carried a handle minted on another pod (the server's per-pod state). */
  handleLeaks: number;
  /** Failures recovery exists to prevent (session not found, 502…): 0 with pod pinning, a shared store and recovery. */
  recoverableErrors: number;
  /** Calls in flight on a pod that died or hung, not safe to repeat, answered "may or may not have run" (JSON-RPC -32050). */
  unknownOutcome: number;
  /**
   * Calls of legacy clients that succeeded without a session (a stateless server): spread by
   * the service, not errors. Modern clients' calls, sessionless by their era, are `modern`.
   */
  sessionless: number;
  /** Calls of modern (2026-07-28) clients that succeeded: the era has no sessions, so the service spreads them. */
  modern: number;
  /** Calls that waited longer than SLOW_CALL_MS for their answer. */
  slowCalls: number;
  /** The longest any call waited for its answer, ms (0 before any call). */
  longestWaitMs: number;
}

export const NO_CALLS: CallCounts = { clientErrors: 0, handleLeaks: 0, recoverableErrors: 0, unknownOutcome: 0, sessionless: 0, modern: 0, slowCalls: 0, longestWaitMs: 0 };

/** `counts` with one more call. Pure: `counts` is not changed. */
export function countCall(
  counts: CallCounts,
  call: { ok: boolean; rpcCode: number | null; sessionId: string | null; latencyMs: number; era?: 'legacy' | 'modern'; handleLeak?: true },
): CallCounts {
  const outcome = callOutcome(call);
  // By the client's era, not by the missing session: a modern call has none by design, a legacy one only on a stateless server.
  const modern = call.era === 'modern';
  return {
    clientErrors: counts.clientErrors + (outcome === 'ok' ? 0 : 1),
    handleLeaks: counts.handleLeaks + (outcome === 'handle-leak' ? 1 : 0),
    recoverableErrors: counts.recoverableErrors + (outcome === 'recoverable-error' ? 1 : 0),
    unknownOutcome: counts.unknownOutcome + (outcome === 'unknown-outcome' ? 1 : 0),
    sessionless: counts.sessionless + (outcome === 'ok' && !modern && call.sessionId === null ? 1 : 0),
    modern: counts.modern + (outcome === 'ok' && modern ? 1 : 0),
    slowCalls: counts.slowCalls + (call.latencyMs > SLOW_CALL_MS ? 1 : 0),
    longestWaitMs: Math.max(counts.longestWaitMs, Math.round(call.latencyMs)),
  };
}

/** The split of client errors, explained in the same words wherever it is shown (the header, verdicts, the matrix, reports). */
export const EXPLAINED = {
  recoverableErrors: 'Calls that failed for a reason routing can fix: session not found, a pod that could not be reached… '
    + 'Pod pinning, a shared Redis and recovery keep this at 0.',
  unknownOutcome: 'Calls under way on a pod that died or stopped answering, and not safe to repeat (a tool not marked read-only or idempotent, '
    + 'like the demo\'s counter): the proxy answers them honestly, JSON-RPC -32050 "the call may or may not have run", instead of running them '
    + 'twice or leaving them hanging. Correct behaviour, not a routing failure.',
  handleLeaks: 'Calls that carried a handle another pod handed out (a cart id, say) and failed: the server keeps that state in one '
    + 'pod\'s memory, and a sessionless request may land on any pod. No routing can fix it: keep the state in a store all pods share.',
  slowCalls: `Calls that waited longer than ${SLOW_CALL_MS / 1000} s for their answer.`,
} as const;
