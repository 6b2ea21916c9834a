import { useEffect, useState } from 'react';
import { LATE_WAIT_MS } from '../../../app/shared/call-outcome.ts';
import type { Waiting } from '../../../app/state/snapshot.ts';

/** Ages are shown to a tenth of a second: the component re-renders when that changes, not on every frame. */
const STEP_MS = 100;

/**
 * How long ago `since` (epoch ms) was, ticking on the frame clock while it is set: a hung pod
 * sends no event, so nothing else would move the number. Always computed at render from the
 * clock, never kept: a render never shows the age of a `since` that has changed or gone.
 */
export function useAge(since: number | null): number | null {
  const [, rerender] = useState(0);
  useEffect(() => {
    if (since === null) return;
    let shown = ageOf(since);
    let frame = requestAnimationFrame(function tick() {
      const age = ageOf(since);
      if (age !== shown) {
        shown = age;
        rerender((n) => n + 1);
      }
      frame = requestAnimationFrame(tick);
    });
    return () => cancelAnimationFrame(frame);
  }, [since]);
  return ageOf(since);
}

function ageOf(since: number | null): number | null {
  return since === null ? null : Math.max(0, Math.floor((Date.now() - since) / STEP_MS) * STEP_MS);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface Props {
  waiting: Waiting;
  /** `full`: "2 calls waiting · oldest 2.4 s"; `short`, for a table cell or a tiny card: "2.4 s" for one call, "2 · 2.4 s" for more. */
  form: 'full' | 'short';
  testId?: string;
}

/** Calls waiting for an answer and how long the oldest has waited, highlighted past LATE_WAIT_MS (a healthy pod answers well within it). */
export function WaitingCalls({ waiting, form, testId }: Props) {
  const age = useAge(waiting.calls > 0 ? waiting.oldestAt : null);
  const late = age !== null && age > LATE_WAIT_MS;
  const title = waiting.calls > 0
    ? `${waiting.calls} call${waiting.calls === 1 ? '' : 's'} sent and not answered yet; the oldest has waited ${seconds(age ?? 0)}.`
      + (late ? ` Past ${LATE_WAIT_MS / 1000} s: a healthy pod answers well within that — is it hung?` : '')
    : 'No call is waiting for an answer';
  let text: string;
  if (waiting.calls === 0) text = form === 'full' ? 'no call waiting' : '—';
  else if (form === 'full') text = `${waiting.calls} call${waiting.calls === 1 ? '' : 's'} waiting · oldest ${seconds(age ?? 0)}`;
  else text = `${waiting.calls > 1 ? `${waiting.calls} · ` : ''}${seconds(age ?? 0)}`;
  return (
    <span className={`calls-waiting${waiting.calls ? ' is-waiting' : ''}${late ? ' is-late' : ''}`} title={title} data-testid={testId} data-late={late || undefined}>
      {text}
    </span>
  );
}
