import type { ProxyEvents } from './events.ts';
import { LinkedList, type Linked } from './linked-list.ts';

/** Why the proxy ended a request that was under way on a pod. */
/** Why a request under way ended early: the proxy cut it, or its pod closed the connection mid-answer. */
export type CutReason = 'pod-unhealthy' | 'upstream-timeout' | 'reset-after-write';

/** The proxy ended a request itself: its pod stopped answering probes, or it outlived `--upstream-timeout`. */
export class CallCutError extends Error {
  override name = 'CallCutError';
  readonly reason: CutReason;
  readonly pod: string;

  constructor(reason: CutReason, pod: string, message: string) {
    super(message);
    this.reason = reason;
    this.pod = pod;
  }
}

/** One request under way on a pod. */
export interface InFlightEntry {
  readonly pod: string;
  readonly sessionId: string | null;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  /** A GET stream: ended with its pod, but not a call waiting for an answer. */
  readonly stream: boolean;
  /** Ends the request now (the caller decides what the client hears). */
  cut(error: CallCutError): void;
}

/** Calls this replica has waiting on one pod (GET streams are not calls). */
export interface PodInFlight {
  pod: string;
  calls: number;
  /** When the oldest started (epoch ms); null with none. */
  oldestAt: number | null;
  /** The same, per session (sessionless calls are left out). */
  sessions: { sessionId: string; calls: number; oldestAt: number }[];
}

/** `inflight.changed` events for one pod come at most this often. */
const COALESCE_MS = 100;
/** Pods with nothing under way whose (empty) lists are kept, so that a pod's list is not made again for each request. */
const IDLE_PODS = 64;

class Entry implements InFlightEntry, Linked<Entry> {
  readonly pod: string;
  readonly sessionId: string | null;
  readonly startedAt = Date.now();
  readonly stream: boolean;
  readonly cut: (error: CallCutError) => void;
  prev: Entry | null = null;
  next: Entry | null = null;
  listed = false;

  constructor(pod: string, sessionId: string | null, stream: boolean, cut: (error: CallCutError) => void) {
    this.pod = pod;
    this.sessionId = sessionId;
    this.stream = stream;
    this.cut = cut;
  }
}

/**
 * The requests under way on each pod: what a verdict of "unhealthy" ends, and what the lab
 * shows as calls waiting on a pod. Entries are kept in start order, so the oldest is first.
 * Changes are told as `inflight.changed` events, coalesced per pod, only when someone listens.
 */
export class InFlight {
  /** Lists, not Sets: see LinkedList. A pod's list stays when it empties (within IDLE_PODS). */
  private readonly byPod = new Map<string, LinkedList<Entry>>();
  private readonly events: ProxyEvents;
  private readonly replicaId: string;
  private readonly dirty = new Set<string>();
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(events: ProxyEvents, replicaId: string) {
    this.events = events;
    this.replicaId = replicaId;
  }

  start(pod: string, sessionId: string | null, stream: boolean, cut: (error: CallCutError) => void): InFlightEntry {
    const entry = new Entry(pod, sessionId, stream, cut);
    let entries = this.byPod.get(pod);
    if (!entries) {
      if (this.byPod.size >= IDLE_PODS) this.dropIdle();
      this.byPod.set(pod, (entries = new LinkedList()));
    }
    entries.add(entry);
    if (!stream) this.changed(pod);
    return entry;
  }

  end(entry: InFlightEntry): void {
    if (!(entry instanceof Entry) || !this.byPod.get(entry.pod)?.delete(entry)) return;
    if (!entry.stream) this.changed(entry.pod);
  }

  /** Ends every request under way on `pod`, streams included; returns how many. */
  cutPod(pod: string, error: (entry: InFlightEntry) => CallCutError): number {
    const entries = [...(this.byPod.get(pod) ?? [])];
    for (const entry of entries) entry.cut(error(entry));
    return entries.length;
  }

  /** Ends the calls (not streams) that started more than `ms` ago. */
  cutOlderThan(ms: number, error: (entry: InFlightEntry) => CallCutError): void {
    const before = Date.now() - ms;
    const old: InFlightEntry[] = [];
    for (const entries of this.byPod.values()) {
      for (const entry of entries) {
        if (entry.startedAt > before) break;
        if (!entry.stream) old.push(entry);
      }
    }
    for (const entry of old) entry.cut(error(entry));
  }

  /** Calls waiting now, per pod with any. */
  snapshot(): PodInFlight[] {
    return [...this.byPod.keys()].map((pod) => this.ofPod(pod)).filter((p) => p.calls > 0);
  }

  close(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
  }

  /** Forgets the lists of pods with nothing under way (pods come and go). */
  private dropIdle(): void {
    for (const [pod, entries] of this.byPod) if (entries.size === 0) this.byPod.delete(pod);
  }

  private ofPod(pod: string): PodInFlight {
    let calls = 0;
    let oldestAt: number | null = null;
    const sessions = new Map<string, { sessionId: string; calls: number; oldestAt: number }>();
    for (const entry of this.byPod.get(pod) ?? []) {
      if (entry.stream) continue;
      calls++;
      oldestAt ??= entry.startedAt;
      if (entry.sessionId === null) continue;
      const session = sessions.get(entry.sessionId);
      if (session) session.calls++;
      else sessions.set(entry.sessionId, { sessionId: entry.sessionId, calls: 1, oldestAt: entry.startedAt });
    }
    return { pod, calls, oldestAt, sessions: [...sessions.values()] };
  }

  private changed(pod: string): void {
    if (!this.events.wants('inflight.changed')) return;
    this.dirty.add(pod);
    this.flushTimer ??= setTimeout(() => this.flush(), COALESCE_MS);
  }

  private flush(): void {
    this.flushTimer = null;
    const at = Date.now();
    for (const pod of this.dirty) this.events.emit('inflight.changed', { at, replicaId: this.replicaId, ...this.ofPod(pod) });
    this.dirty.clear();
  }
}
