import { useState } from 'react';
import type { CommandResult } from '../../../app/api/contract.ts';
import { SCENARIO_CATALOG as SCENARIOS, type ScenarioName } from '../../../app/shared/scenario-catalog.ts';
import { EXPLAINED, SLOW_CALL_MS } from '../../../app/shared/call-outcome.ts';
import { ms } from '../model/format.ts';
import { useLab } from '../state/context.tsx';
import { ActionButton, useCommand } from '../ui/ActionButton.tsx';
import { Matrix } from './Matrix.tsx';

type Verdict = CommandResult<'scenario.run'>;

/** Scripted breakages with a verdict in numbers, and the bug report of the whole run. */
export function Scenarios() {
  const run = useCommand();
  const { running } = useLab();
  const [verdict, setVerdict] = useState<Verdict | null>(null);
  const [report, setReport] = useState<CommandResult<'report.export'> | null>(null);
  const current = SCENARIOS.find((s) => running.has(`scenario:${s.name}`));
  const start = async (name: ScenarioName) => {
    setVerdict(null);
    const result = await run(`scenario:${name}`, 'scenario.run', { name });
    if (result) setVerdict(result);
  };

  return (
    <section className="panel scenarios-panel" aria-label="Scenarios">
      <header className="panel-header">
        <h2>Scenarios</h2>
        <span className="panel-hint">scripted breakage, judged by what the clients saw</span>
      </header>
      <div className="scenario-list">
        {SCENARIOS.map((s) => (
          <ActionButton key={s.name} busyKey={`scenario:${s.name}`} testId={`scenario-${s.name}`} disabled={current !== undefined} title={s.description}
            onClick={() => void start(s.name)}>
            {s.name}
          </ActionButton>
        ))}
      </div>
      {current && <p className="card-dim" aria-live="polite">Running {current.name}: {current.description} (traffic runs during it; this takes about 10 s)</p>}
      {verdict && <VerdictView verdict={verdict} />}
      <Matrix />
      <div className="report">
        <ActionButton busyKey="report.export" testId="export-report" title="Write a Markdown + JSON bug report: versions, config, timeline, per-session traces"
          onClick={() => void run('report.export', 'report.export', {}).then((r) => r && setReport(r))}>
          Export bug report
        </ActionButton>
        {report && (
          <div className="report-paths" data-testid="report-paths">
            <span>written:</span>
            <code className="mono selectable">{report.markdown}</code>
            <code className="mono selectable">{report.json}</code>
          </div>
        )}
      </div>
    </section>
  );
}

function VerdictView({ verdict }: { verdict: Verdict }) {
  const good = verdict.recoverableErrors === 0;
  const unknown = verdict.unknownOutcome;
  return (
    <div className={`verdict ${good ? 'is-good' : 'is-bad'}`} data-testid="scenario-verdict">
      <div className="verdict-title">
        <strong>{verdict.scenario}</strong>: {good ? 'no recoverable error' : `${verdict.recoverableErrors} recoverable error${verdict.recoverableErrors === 1 ? '' : 's'}`}
        {unknown > 0 && <span className="card-dim">{` · ${unknown} call${unknown === 1 ? '' : 's'} in flight answered "outcome unknown"`}</span>}
      </div>
      <dl className="verdict-numbers">
        <div><dt>requests</dt><dd>{verdict.requests}</dd></div>
        <div title={EXPLAINED.recoverableErrors}><dt>recoverable errors</dt><dd className={good ? 'text-good' : 'text-bad'}>{verdict.recoverableErrors}</dd></div>
        <div title={EXPLAINED.unknownOutcome}><dt>outcome unknown</dt><dd className={unknown ? 'text-warn' : ''}>{unknown}</dd></div>
        <div><dt>recoveries</dt><dd>{verdict.recoveries}</dd></div>
        <div><dt>state losses</dt><dd className={verdict.stateLosses ? 'text-warn' : ''}>{verdict.stateLosses}</dd></div>
        <div title={EXPLAINED.slowCalls}>
          <dt>waits &gt; {SLOW_CALL_MS / 1000} s</dt><dd className={verdict.slowCalls ? 'text-bad' : ''}>{verdict.slowCalls}</dd>
        </div>
        <div><dt>longest wait</dt><dd>{ms(verdict.longestWaitMs)}</dd></div>
        <div><dt>p50</dt><dd>{ms(verdict.latencyMs.p50)}</dd></div>
        <div><dt>p99</dt><dd>{ms(verdict.latencyMs.p99)}</dd></div>
      </dl>
      {verdict.errorSamples.length > 0 && (
        <ul className="error-samples">
          {verdict.errorSamples.map((sample) => <li key={sample} className="mono">{sample}</li>)}
        </ul>
      )}
    </div>
  );
}
