import type { LabMessage } from '../../../app/api/bridge.ts';
import type { PinningKind } from '../../../app/config.ts';
import type { LabEvent } from '../../../app/events.ts';
// The shared reducer is pure, dependency-free TypeScript: the renderer runs the very same code as the lab.
import { reduceAll } from '../../../app/state/reducer.ts';
import { emptySnapshot, type LabSnapshot } from '../../../app/state/snapshot.ts';

/** The snapshot after one message of the live stream: a snapshot replaces, events are reduced on. */
export function applyMessage(snapshot: LabSnapshot, message: LabMessage): LabSnapshot {
  if ('snapshot' in message) return message.snapshot;
  return reduceAll(snapshot, message.events);
}

export { emptySnapshot };

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
}

export function noteActivity(activity: Activity, events: readonly LabEvent[], now: number): void {
  for (const event of events) {
    if (event.type === 'request.routed' && event.sessionId) {
      activity.routed.set(event.sessionId, now);
      activity.seen.set(event.sessionId, event.at);
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
}
