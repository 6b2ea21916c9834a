import { seconds, type ClientFaultVerdict } from '../../../app/shared/client-faults.ts';
import type { ClientView, SeenEra } from '../../../app/state/snapshot.ts';

/** What each era's badge says, and what it means on hover: text, never colour alone. */
export const ERA_BADGES: Record<SeenEra, { label: string; title: string }> = {
  legacy: { label: 'legacy', title: 'MCP ≤ 2025-11-25: initialize, then a session (Mcp-Session-Id) pinned to one pod' },
  modern: { label: 'modern', title: 'MCP 2026-07-28: no initialize, no session — each call goes through the service to any pod' },
  both: { label: 'both eras', title: 'Seen with a session and without: a dual-era client that fell back to initialize' },
};

/** A client that has sent nothing for this long is idle: hidden unless ended rows are shown. */
export const IDLE_MS = 10_000;

const byName = (a: ClientView, b: ClientView) => a.name.localeCompare(b.name, 'en', { numeric: true });

/** Clients seen calling without a session (2026-07-28), by name (`client-2` before `client-10`); idle ones only when asked. */
export function sessionlessClients(clients: Record<string, ClientView>, now: number, withIdle: boolean): ClientView[] {
  return Object.values(clients).filter((c) => c.era !== 'legacy' && (withIdle || !isIdle(c, now))).sort(byName);
}

export function isIdle(client: ClientView, now: number): boolean {
  return now - client.lastSeen > IDLE_MS;
}

/** Clients from outside the lab (an agent, MCP Inspector), the most recently seen first. */
export function externalClients(clients: Record<string, ClientView>): ClientView[] {
  return Object.values(clients).filter((c) => !c.simulated).sort((a, b) => b.lastSeen - a.lastSeen || byName(a, b));
}

/** Why a client cannot be checked (null: it can): the check's faults are aimed at a session it opened. */
export function whyNotCheckable(client: ClientView): string | null {
  return client.sessions > 0 ? null : 'It calls without a session (MCP 2026-07-28): the check\'s faults are aimed at a session it opened, and it has opened none.';
}

/** One verdict as the panel shows it. */
export interface VerdictRow {
  fault: ClientFaultVerdict['fault'];
  /** `PASS`, `FAIL` or `N/A`: the word, not only a colour. */
  verdict: string;
  tone: 'good' | 'bad' | 'warn';
  /** What the client did: `re-initialized — …`. */
  did: string;
  /** Time to recover (from the first error it saw), or `—` when it never did. */
  recovered: string;
  callsLost: number;
  /** What its failed calls got: `HTTP 404 ×3, no answer ×1`; '' when none failed. */
  saw: string;
}

const TONES = { pass: 'good', fail: 'bad', 'n/a': 'warn' } as const;

export function verdictRow(v: ClientFaultVerdict): VerdictRow {
  return {
    fault: v.fault, verdict: v.verdict.toUpperCase(), tone: TONES[v.verdict], did: `${v.outcome} — ${v.detail}`,
    recovered: v.recoveredInMs === null ? '—' : seconds(v.recoveredInMs), callsLost: v.callsLost, saw: v.saw.join(', '),
  };
}

/** A check's summary line: `2 of 3 faults passed, 1 failed`. */
export function checkSummary(verdicts: readonly ClientFaultVerdict[]): string {
  const n = (verdict: ClientFaultVerdict['verdict']) => verdicts.filter((v) => v.verdict === verdict).length;
  const na = n('n/a');
  return `${n('pass')} of ${verdicts.length} fault${verdicts.length === 1 ? '' : 's'} passed, ${n('fail')} failed${na ? `, ${na} could not be aimed` : ''}`;
}
