import type { PinningKind } from '../../../app/config.ts';
import type { LabEvent } from '../../../app/events.ts';
// The shared reducer is pure, dependency-free TypeScript: the renderer runs the very same code as the lab.
import { evictEnded, reduceLive } from '../../../app/state/reducer.ts';
import { emptySnapshot } from '../../../app/state/snapshot.ts';

/** The snapshot after the events received since the last frame, reduced as one batch (see `reduceLive`). */
export const applyEvents = reduceLive;

export { emptySnapshot, evictEnded };

/** What the topology animates but the snapshot does not keep: which sessions just moved or were just routed. */
export interface Activity {
  /** Session id → when (ms, page clock) its last request was routed. */
  routed: Map<string, number>;
  /** Session id → when a recovery moved it to another pod. */
  moved: Map<string, number>;
  /** Session id → when (epoch ms) its last request was routed, kept as long as the session. */
  seen: Map<string, number>;
  /** Session id → what its record pins (the snapshot does not say; `session.created` does). */
  pinning: Map<string, PinningKind>;
  /** `<replica> <pod>` → requests with no session routed that way lately (2026-07-28 traffic, a stateless server). */
  sessionless: Map<string, SessionlessCount>;
}

/** Requests with no session through one replica to one pod: a count that halves every SESSIONLESS_HALF_LIFE_MS. */
export interface SessionlessCount {
  replica: string;
  /** `host:port`, or null when the service chose and no pod was named. */
  pod: string | null;
  weight: number;
  /** Page clock (ms) when `weight` was last brought up to date. */
  at: number;
}

export const SESSIONLESS_HALF_LIFE_MS = 2000;
/** Below this a way no longer counts as used. */
const SESSIONLESS_GONE = 0.05;

const faded = (count: SessionlessCount, now: number) => count.weight * 2 ** (-(now - count.at) / SESSIONLESS_HALF_LIFE_MS);

export function emptyActivity(): Activity {
  return { routed: new Map(), moved: new Map(), seen: new Map(), pinning: new Map(), sessionless: new Map() };
}

export function noteActivity(activity: Activity, events: readonly LabEvent[], now: number): void {
  for (const event of events) {
    if (event.type === 'request.routed' && event.sessionId) {
      activity.routed.set(event.sessionId, now);
      activity.seen.set(event.sessionId, event.at);
    } else if (event.type === 'request.routed') {
      const key = `${event.replicaId} ${event.pod ?? ''}`;
      const count = activity.sessionless.get(key);
      if (count) activity.sessionless.set(key, { ...count, weight: faded(count, now) + 1, at: now });
      else activity.sessionless.set(key, { replica: event.replicaId, pod: event.pod, weight: 1, at: now });
    }
    else if (event.type === 'recovery.done' && event.fromPod !== event.toPod) activity.moved.set(event.sessionId, now);
    else if (event.type === 'session.created') activity.pinning.set(event.sessionId, event.pinning);
  }
}

/** Drops what is too old to be drawn, so the maps stay the size of the live sessions. */
export function pruneActivity(activity: Activity, now: number, keepMs: number): void {
  for (const map of [activity.routed, activity.moved]) {
    for (const [id, at] of map) if (now - at > keepMs) map.delete(id);
  }
  for (const [key, count] of activity.sessionless) if (faded(count, now) < SESSIONLESS_GONE) activity.sessionless.delete(key);
}

/** Forgets what it kept of sessions the snapshot no longer holds (evicted). */
export function forgetSessions(activity: Activity, sessions: Readonly<Record<string, unknown>>): void {
  for (const map of [activity.seen, activity.pinning]) {
    for (const id of map.keys()) if (!(id in sessions)) map.delete(id);
  }
}

/** Sessionless requests lately per replica → pod, as weights faded to `now`. */
export function sessionlessFlows(activity: Activity, now: number): { replica: string; pod: string | null; weight: number }[] {
  return [...activity.sessionless.values()].map((count) => ({ replica: count.replica, pod: count.pod, weight: faded(count, now) }));
}
