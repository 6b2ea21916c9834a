import type { LabConfig } from '../../../app/config.ts';
import { brokenCombosOf } from '../../../app/shared/broken-combos.ts';

/** The known broken combinations in a configuration, one line each with why: shown where they are chosen, before they bite. */
export function BrokenCombos({ config, testId }: { config: LabConfig; testId: string }) {
  const combos = brokenCombosOf(config);
  if (combos.length === 0) return null;
  return (
    <ul className="broken-combos" data-testid={testId} aria-label="Known broken combinations" aria-live="polite">
      {combos.map((combo) => (
        <li key={combo.id} data-testid={`broken-combo-${combo.id}`}>
          <span className="broken-combo-mark" aria-hidden="true">⚠</span> <strong>{combo.title}</strong> — {combo.why}
        </li>
      ))}
    </ul>
  );
}
