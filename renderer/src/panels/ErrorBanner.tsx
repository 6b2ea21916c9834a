import { useLab, useStore } from '../state/context.tsx';

/** Every command that failed, with the lab's own words, until dismissed. */
export function ErrorBanner() {
  const { errors } = useLab();
  const store = useStore();
  if (!errors.length) return null;
  return (
    <div className="error-banner" role="alert" data-testid="error-banner">
      {errors.map((error) => (
        <div key={error.id} className="error-item">
          <strong>{error.command} failed:</strong> <span data-testid="error-message">{error.message}</span>
          <button type="button" className="btn btn-small btn-plain" onClick={() => store.dismissError(error.id)} aria-label="Dismiss" data-testid="error-dismiss">
            ✕
          </button>
        </div>
      ))}
    </div>
  );
}
