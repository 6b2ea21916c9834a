import type { LabEvent } from '../events.ts';
import { describe } from '../shared/describe.ts';
import { isUnknownOutcome } from './tally.ts';

/** A session that failed in a soak, told by the events before its failure. */
export interface FailureStory {
  sessionId: string;
  /** The failure, in one line. */
  failure: string;
  /** The session's last events and the lab's around them (Redis, replicas, pods), oldest first, one line each. */
  lines: string[];
}

/** The events kept per session: a few seconds of its requests at the soak's rate. */
const PER_SESSION = 40;
/** Sessions kept (least recently seen dropped first). */
const MAX_SESSIONS = 5000;
/** Lab-wide events kept: chaos acts every few seconds, so this covers the last minute or so. */
const LAB_WIDE = 300;
/** Stories told: the first few failures say what the rest would. */
const MAX_STORIES = 5;

const LAB_WIDE_TYPES = new Set<LabEvent['type']>(['redis.changed', 'replica.changed', 'pod.changed', 'pod.health', 'store.error', 'store.restored', 'dns.changed']);

/** How long after its failure a story keeps listening: what the session and the lab did next. */
const AFTER_MS = 3000;

interface OpenStory {
  sessionId: string;
  failure: string;
  events: LabEvent[];
  /** Events up to this time (epoch ms) still join the story. */
  until: number;
}

/**
 * Keeps each session's last events, and the lab's, so that a session that fails in a soak can be
 * told: which replicas served it, which pods it was pinned to, what the chaos did around it, and
 * what came next. A rare failure is otherwise a count with no cause. Bounded: a few dozen events
 * per session, and a few stories.
 */
export class FailureStories {
  private readonly sessions = new Map<string, LabEvent[]>();
  private readonly labWide: LabEvent[] = [];
  private readonly told: OpenStory[] = [];
  /** When each replica last reported each kind of store failure: an outage repeats it on every request. */
  private readonly storeErrorAt = new Map<string, number>();

  add(event: LabEvent): void {
    const id = 'sessionId' in event ? event.sessionId : null;
    const labWide = LAB_WIDE_TYPES.has(event.type);
    if (labWide && this.repeated(event)) return;
    for (const story of this.told) {
      if (event.at <= story.until && (labWide || id === story.sessionId)) story.events.push(event);
    }
    if (labWide) {
      this.labWide.push(event);
      if (this.labWide.length > LAB_WIDE) this.labWide.shift();
      return;
    }
    if (!id) return;
    let kept = this.sessions.get(id);
    if (kept) this.sessions.delete(id); // to the most recently seen end
    else kept = [];
    kept.push(event);
    if (kept.length > PER_SESSION) kept.shift();
    this.sessions.set(id, kept);
    if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    const failure = failureOf(event);
    if (failure && this.told.length < MAX_STORIES && !this.told.some((s) => s.sessionId === id)) {
      const from = kept[0]!.at - 5000;
      this.told.push({ sessionId: id, failure, events: [...kept, ...this.labWide.filter((e) => e.at >= from)], until: event.at + AFTER_MS });
    }
  }

  /** A store failure its replica already reported within the second: one line says it. */
  private repeated(event: LabEvent): boolean {
    if (event.type !== 'store.error') return false;
    const key = `${event.replicaId} ${event.operation}`;
    const last = this.storeErrorAt.get(key);
    if (last !== undefined && event.at - last < 1000) return true;
    this.storeErrorAt.set(key, event.at);
    return false;
  }

  /** The stories so far, each line `+ms  what happened` from its first event. */
  stories(): FailureStory[] {
    return this.told.map(({ sessionId, failure, events }) => {
      const sorted = [...events].sort((a, b) => a.at - b.at);
      const t0 = sorted[0]!.at;
      return { sessionId, failure, lines: sorted.map((e) => `+${String(e.at - t0).padStart(6)} ms  ${describe(e, 'report').text}`) };
    });
  }
}

/** What makes an event a failure worth a story: a client saw an error it should not have, a recovery failed, or a replica did not know the session. */
function failureOf(event: LabEvent): string | null {
  if (event.type === 'traffic.call' && !event.ok && !isUnknownOutcome(event)) return describe(event, 'report').text;
  if (event.type === 'recovery.failed' || event.type === 'session.unknown') return describe(event, 'report').text;
  return null;
}
