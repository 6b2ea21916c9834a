import type { SeenEra } from '../../../app/state/snapshot.ts';
import { ERA_BADGES } from '../model/clients.ts';

/** A client's era in words, drawn differently per era (solid: pinned sessions; dashed: sessionless) so it reads at a glance. */
export function EraBadge({ era, testId }: { era: SeenEra; testId?: string }) {
  const { label, title } = ERA_BADGES[era];
  return <span className={`era-badge era-${era}`} title={title} data-testid={testId} data-era={era}>{label}</span>;
}
