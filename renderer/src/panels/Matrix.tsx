import { useState } from 'react';
import type { CommandResult } from '../../../app/api/contract.ts';
import { EXPLAINED, SLOW_CALL_MS } from '../../../app/shared/call-outcome.ts';
import { SCENARIO_CATALOG } from '../../../app/shared/scenario-catalog.ts';
import { ms } from '../model/format.ts';
import { useLab } from '../state/context.tsx';
import { ActionButton, useCommand } from '../ui/ActionButton.tsx';

type Rows = CommandResult<'matrix.run'>;

/** Each scenario in 8 modes: {redis, memory} × {pod, service} pinning × recovery {on, off}. */
const LABS = SCENARIO_CATALOG.length * 8;

/**
 * The matrix: every scenario × {redis, memory} × {pod, service} × {recovery on, off}, each on
 * a lab of its own — the numbers that show why Redis and pod pinning matter.
 */
export function Matrix() {
  const run = useCommand();
  const running = useLab().running.has('matrix.run');
  const [rows, setRows] = useState<Rows | null>(null);
  return (
    <div className="matrix">
      <ActionButton busyKey="matrix.run" testId="run-matrix"
        title="Runs each scenario in 8 modes, each on a lab of its own, one after another (several minutes; rows appear in the timeline as they end)"
        onClick={() => void run('matrix.run', 'matrix.run', {}).then((r) => r && setRows(r))}>
        Run the matrix
      </ActionButton>
      {running && <p className="card-dim" aria-live="polite">Running {LABS} labs one after another; each row is told in the timeline as it ends.</p>}
      {rows && (
        <div className="matrix-scroll">
          <table className="matrix-table" data-testid="matrix-table">
            <thead>
              <tr>
                <th>scenario</th><th>store</th><th>pinning</th><th>recovery</th><th>requests</th>
                <th title={EXPLAINED.recoverableErrors}>recoverable errors</th><th title={EXPLAINED.unknownOutcome}>outcome unknown</th><th>recoveries</th><th>state losses</th>
                <th title={EXPLAINED.slowCalls}>waits &gt; {SLOW_CALL_MS / 1000} s</th><th>longest wait</th><th>p99</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={`${r.scenario}/${r.store}/${r.pinning}/${r.recovery}`}>
                  <td>{r.scenario}</td><td>{r.store}</td><td>{r.pinning}</td><td>{r.recovery ? 'on' : 'off'}</td>
                  {r.verdict ? (
                    <>
                      <td>{r.verdict.requests}</td>
                      <td className={r.verdict.recoverableErrors ? 'text-bad' : 'text-good'}>{r.verdict.recoverableErrors}</td>
                      <td className={r.verdict.unknownOutcome ? 'text-warn' : ''}>{r.verdict.unknownOutcome}</td>
                      <td>{r.verdict.recoveries}</td>
                      <td className={r.verdict.stateLosses ? 'text-warn' : ''}>{r.verdict.stateLosses}</td>
                      <td className={r.verdict.slowCalls ? 'text-bad' : ''}>{r.verdict.slowCalls}</td>
                      <td>{ms(r.verdict.longestWaitMs)}</td>
                      <td>{ms(r.verdict.latencyMs.p99)}</td>
                    </>
                  ) : r.notApplicable ? (
                    <td colSpan={8} className="card-dim" title={r.notApplicable}>n/a: {r.notApplicable}</td>
                  ) : (
                    <td colSpan={8} className="text-bad" title={r.failed ?? ''}>failed: {r.failed}</td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
