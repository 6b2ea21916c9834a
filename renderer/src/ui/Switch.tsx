import { useLab } from '../state/context.tsx';

interface Props {
  label: string;
  /** What each position means, shown in the switch: [off, on]. */
  values: readonly [string, string];
  on: boolean;
  busyKey: string;
  onToggle: () => void;
  testId: string;
  title: string;
  /** The "on" position is the bad one (pinning the service). */
  onIsBad?: boolean;
}

/** A two-position switch that shows both positions, so a person sees what the other one is. */
export function Switch({ label, values, on, busyKey, onToggle, testId, title, onIsBad }: Props) {
  const busy = useLab().running.has(busyKey);
  return (
    <button type="button" role="switch" aria-checked={on} className={`switch${on ? ' is-on' : ''}${onIsBad ? ' on-is-bad' : ''}${busy ? ' is-busy' : ''}`}
      onClick={onToggle} disabled={busy} data-testid={testId} data-value={on ? values[1] : values[0]} title={title}>
      <span className="switch-label">{label}</span>
      <span className="switch-track">
        <span className={`switch-option${on ? '' : ' is-current'}`}>{values[0]}</span>
        <span className={`switch-option${on ? ' is-current' : ''}`}>{values[1]}</span>
      </span>
    </button>
  );
}
