import type { SoakResult } from './soak.ts';
import type { ErrorKind } from './tally.ts';

/** A soak's figures for a person: a header line, one Markdown table, the error samples, the verdict. */
export function formatSoak(r: SoakResult): string {
  const f = r.figures;
  const { done, skipped } = r.chaos;
  const recoveries = Object.entries(f.recoveries).sort((a, b) => b[1] - a[1]);
  const total = recoveries.reduce((sum, [, n]) => sum + n, 0);
  const rows: [string, string][] = [
    ['calls', `${f.calls} (${r.clients} clients × ${r.rate} calls/s each, tools/call counter)`],
    ['client-visible errors: recoverable (must be 0)', String(f.recoverableErrors)],
    ['client-visible errors: in-flight non-idempotent, answered as such (JSON-RPC -32050)', String(f.unknownOutcomes)],
    ['recoveries (sessions re-initialized on a new pod)', `${total}${recoveries.length ? `: ${recoveries.map(([cause, n]) => `${cause} ${n}`).join(', ')}` : ''}`],
    ['recoveries failed', String(f.recoveriesFailed)],
    ['"session not found" answers (no record in the store, or none left to recover)', String(f.unknownSessions)],
    ['requests under way that the proxy ended', [
      `${f.inFlightEnded.hung} on a hung pod, ${f.inFlightEnded.reset} reset by a dying one:`,
      `replayed ${f.inFlightEnded.replayed}, retried ${f.inFlightEnded.retried}, answered "outcome unknown" ${f.inFlightEnded.unknownOutcome}, GET streams closed ${f.inFlightEnded.streamsClosed}`,
    ].join(' ')],
    ['requests a restarted replica served from Redis', String(f.servedAfterReplicaRestart)],
    ['Redis write-backs after it came back empty', String(f.storeRestored)],
    ['state losses (the counter went back: its pod was gone)', String(f.stateLosses)],
    ['longest wait (slowest call)', `${ms(f.longestWaitMs)} (p50 ${ms(f.latencyMs.p50)}, p99 ${ms(f.latencyMs.p99)})`],
    ['chaos', [
      `pods killed ${done.killPod}${skipped.killPod ? ` (${skipped.killPod} skipped: no pod to spare)` : ''}`,
      `pauses ${done.pausePod}${skipped.pausePod ? ` (${skipped.pausePod} skipped)` : ''}`,
      `replica restarts ${done.restartReplica}`,
      `Redis restarts ${done.restartRedis}`,
      `steps failed ${r.chaos.failed}`,
    ].join(', ')],
    ['pods run (first ones and replacements)', String(r.podsRun)],
    ['lab process RSS (proxy replicas in-process)', `${r.rssMiB.start} MiB at start, ${r.rssMiB.end} MiB at end (peak ${r.rssMiB.peak} MiB)`],
    ['lab process CPU (replicas, ingress and clients)', `${r.labCpuPercent}% of one core`],
    ['machine', `${r.machine.cores} cores, load average ${r.machine.loadStart} at start, ${r.machine.loadEnd} at end`],
    ['containers left after stop', r.leftovers.containers === null ? 'none possible (Docker not reachable)' : String(r.leftovers.containers)],
    ['pod processes left after stop', `${r.leftovers.processes}${r.leftovers.pidFiles ? ` (and ${r.leftovers.pidFiles} pid files)` : ''}`],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const valueWidth = Math.max(...rows.map(([, value]) => value.length));
  const line = (a: string, b: string) => `| ${a.padEnd(width)} | ${b.padEnd(valueWidth)} |`;
  const kinds = (title: string, list: ErrorKind[]) => (list.length ? [`${title}:`, ...list.map((k) => `  ${String(k.count).padStart(6)} × ${k.what}`)] : []);
  return [
    `pinlab soak: ${r.minutes} min, ${r.replicas} proxy replicas, ${r.pods} pods, ${r.runtimeNote} (lab ${r.labId})`,
    '',
    line('figure', 'value'),
    `|${'-'.repeat(width + 2)}|${'-'.repeat(valueWidth + 2)}|`,
    ...rows.map(([a, b]) => line(a, b)),
    '',
    ...kinds('recoverable errors, by what they said', f.errorKinds.recoverable),
    ...kinds('"outcome unknown" answers, by what they said', f.errorKinds.unknownOutcome),
    ...kinds('failed recoveries, by cause and reason', f.recoveryFailures),
    ...(r.chaos.failures.length ? ['chaos steps that failed:', ...r.chaos.failures.map((s) => `  - ${s}`)] : []),
    ...r.stories.flatMap((story) => [`the story of session ${story.sessionId}: ${story.failure}`, ...story.lines.map((l) => `  ${l}`)]),
    r.problems.length ? `FAIL — ${r.problems.join('; ')}` : 'PASS — no recoverable error reached a client, nothing left behind',
    '',
  ].join('\n');
}

function ms(value: number): string {
  return `${Math.round(value)} ms`;
}
