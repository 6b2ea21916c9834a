import type { ReactNode } from 'react';

interface Props {
  label: string;
  /** What the field is for, shown under it while it is valid. */
  hint?: ReactNode;
  /** Why the value is refused, shown under it instead of the hint. */
  error?: string;
  /** Spans the form's whole width. */
  wide?: boolean;
  testId?: string;
  children: ReactNode;
}

/** A labelled form field with its hint, or its error, right under it. */
export function Field({ label, hint, error, wide, testId, children }: Props) {
  return (
    <label className={`field${wide ? ' field-wide' : ''}${error ? ' has-error' : ''}`}>
      <span className="field-label">{label}</span>
      {children}
      {error ? (
        <span className="field-error" data-testid={testId ? `${testId}-error` : undefined}>{error}</span>
      ) : (
        hint && <span className="field-hint">{hint}</span>
      )}
    </label>
  );
}
