import { useState } from 'react';
import { useLab } from '../state/context.tsx';

/** Where the pods run, said plainly: a fallback from Docker to processes must not go unnoticed. */
export function RuntimeNote() {
  const { status } = useLab();
  const [hidden, setHidden] = useState<string | null>(null);
  if (!status?.runtime || hidden === status.id) return null;
  const fallback = /not reachable|instead/i.test(status.runtime);
  return (
    <div className={`runtime-note${fallback ? ' is-fallback' : ''}`} data-testid="runtime-note" role="status">
      <span aria-hidden="true">{fallback ? '⚠' : 'ℹ'}</span>
      <span>
        <strong>Pods:</strong> {status.runtime}
      </span>
      <span className="grow" />
      <button type="button" className="btn btn-small btn-plain" onClick={() => setHidden(status.id)} aria-label="Hide this note">
        ✕
      </button>
    </div>
  );
}
