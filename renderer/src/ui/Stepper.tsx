import { useLab } from '../state/context.tsx';

interface Props {
  label: string;
  value: number;
  min: number;
  max: number;
  busyKey: string;
  onChange: (value: number) => void;
  testId: string;
}

/** − value + for scaling a set: one step per click, disabled while the last step runs. */
export function Stepper({ label, value, min, max, busyKey, onChange, testId }: Props) {
  const busy = useLab().running.has(busyKey);
  return (
    <span className={`stepper${busy ? ' is-busy' : ''}`} data-testid={testId} aria-label={label}>
      <button type="button" className="btn btn-small" disabled={busy || value <= min} onClick={() => onChange(value - 1)} title={`${label}: one fewer`} data-testid={`${testId}-down`}>
        −
      </button>
      <span className="stepper-value">{busy ? <span className="spinner" aria-hidden="true" /> : value}</span>
      <button type="button" className="btn btn-small" disabled={busy || value >= max} onClick={() => onChange(value + 1)} title={`${label}: one more`} data-testid={`${testId}-up`}>
        +
      </button>
    </span>
  );
}
