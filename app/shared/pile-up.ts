import { PILE_UP } from '../config.ts';
import type { LabSnapshot } from '../state/snapshot.ts';

/** What one pod carries: legacy sessions pinned to it now, and modern (2026-07-28) requests it served. */
export interface PodLoad {
  /** The pod's name (or its address where the name is not known). */
  pod: string;
  sessions: number;
  modernRequests: number;
}

/** Pods' loads, and how many pods are up (ready and answering their probes) to share them. */
export interface PodLoads {
  loads: readonly PodLoad[];
  podsUp: number;
}

/** One pod carries most of the sessions (legacy) or of the requests (modern) while other pods are up. */
export interface PileUp {
  pod: string;
  /** `sessions`: legacy sessions pinned now; `requests`: modern requests served. */
  what: 'sessions' | 'requests';
  /** The pod's share, from 0 to 1. */
  share: number;
  /** How many the pod carries, of how many in all. */
  count: number;
  of: number;
}

export type PileUpLimits = { readonly [K in keyof typeof PILE_UP]: number };

/**
 * The pile-up a lab shows, or null: one pod with at least `limits.share` of the sessions (or,
 * when the sessions say nothing, of the modern requests) while at least `limits.minPodsUp`
 * pods are up — the others idle. Sessions are judged first: they stay where they are pinned.
 * Pure: the live pod card and the verdict both ask it.
 */
export function pileUpOf(source: LabSnapshot | PodLoads, limits: PileUpLimits = PILE_UP): PileUp | null {
  const { loads, podsUp } = 'version' in source ? loadsOfSnapshot(source) : source;
  if (podsUp < limits.minPodsUp) return null;
  return busiest(loads, 'sessions', limits.minSessions, limits.share) ?? busiest(loads, 'requests', limits.minRequests, limits.share);
}

/** The pile-up in words: `pod-2 holds 9 of 10 sessions (90%)`. */
export function pileUpLine(pileUp: PileUp): string {
  const percent = Math.round(pileUp.share * 100);
  return pileUp.what === 'sessions'
    ? `${pileUp.pod} holds ${pileUp.count} of ${pileUp.of} sessions (${percent}%) while other pods idle`
    : `${pileUp.pod} served ${pileUp.count} of ${pileUp.of} modern requests (${percent}%) while other pods idle`;
}

function busiest(loads: readonly PodLoad[], what: PileUp['what'], least: number, share: number): PileUp | null {
  const count = (load: PodLoad) => (what === 'sessions' ? load.sessions : load.modernRequests);
  let of = 0;
  let top: PodLoad | null = null;
  for (const load of loads) {
    of += count(load);
    if (!top || count(load) > count(top)) top = load;
  }
  if (!top || of < least || count(top) / of < share) return null;
  return { pod: top.pod, what, share: count(top) / of, count: count(top), of };
}

/** A snapshot's pods as loads: up when ready and no replica finds them unhealthy. */
function loadsOfSnapshot(snapshot: LabSnapshot): PodLoads {
  const pods = Object.values(snapshot.pods);
  return {
    loads: pods.map((p) => ({ pod: p.name, sessions: p.sessions, modernRequests: p.modernRequests })),
    podsUp: pods.filter((p) => p.state === 'ready' && Object.keys(p.unhealthy).length === 0).length,
  };
}
