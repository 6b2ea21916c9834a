import type { LabConfig } from '../config.ts';

/** A lab setting that is known to break, said so that a person can choose otherwise. */
export interface BrokenCombo {
  id: 'memory-store-replicas' | 'client-ip-affinity' | 'service-pinning';
  /** A few words: what was chosen. */
  title: string;
  /** One sentence: what breaks, and what to choose instead. */
  why: string;
}

/**
 * The known broken combinations in a lab's configuration (none: an empty list). Pure: the UI
 * shows them as the user selects, the lab logs them, the CLI prints them, the matrix names them.
 */
export function brokenCombosOf(config: Pick<LabConfig, 'replicas' | 'pods' | 'store' | 'affinity' | 'pinning'>): BrokenCombo[] {
  const combos: BrokenCombo[] = [];
  if (config.store === 'memory' && config.replicas > 1) {
    combos.push({
      id: 'memory-store-replicas', title: `${config.replicas} replicas, each with its own memory store`,
      why: 'Each replica knows only the sessions initialized through it, so a request the ingress sends to another replica gets "session not found" '
        + 'and a restart forgets them all: choose the Redis store, or one replica.',
    });
  }
  if (config.affinity === 'client-ip' && config.replicas > 1) {
    combos.push({
      id: 'client-ip-affinity', title: 'client-IP affinity',
      why: 'Every client behind one address (a NAT, a gateway; here every client on this machine) lands on the same replica, which carries all '
        + 'the load while the others idle, unnoticed (ToolHive #5738: one pod for four days): choose session-hash or round-robin with the Redis store.',
    });
  }
  if (config.pinning === 'service' && config.pods > 1) {
    combos.push({
      id: 'service-pinning', title: 'pinning to the service',
      why: 'A session remembers the service\'s address instead of the pod its initialize reached, so its next connection may land on a pod that '
        + 'does not know it ("session not found", state lost): choose pod pinning.',
    });
  }
  return combos;
}

/** A combination as one warning line: `known broken combination — pinning to the service: …`. */
export function brokenComboLine(combo: BrokenCombo): string {
  return `known broken combination — ${combo.title}: ${combo.why}`;
}
