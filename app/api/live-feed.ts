import type { LabEvent } from '../events.ts';
import type { LabSnapshot } from '../state/snapshot.ts';
import type { LabMessage } from './bridge.ts';

/** Events are sent in batches: one message per 50 ms instead of one per event. */
const BATCH_MS = 50;

export interface ReaderOptions {
  /** A reader whose `send` throws (its window or socket is gone) is closed, and this hears why. */
  onSendError?: (error: unknown) => void;
}

interface Reader {
  send: (message: LabMessage) => void;
  onSendError: (error: unknown) => void;
  /** The snapshot version the reader holds: what it was sent plus every batch since. */
  version: number;
  /** How many of the queued events were in its snapshot already (queued, not yet sent, when it opened). */
  seen: number;
}

/**
 * The lab's live stream, for every transport (Electron IPC, web mode's WebSocket): a reader
 * gets the snapshot of the moment it opens, then every event batch after it, in order, each
 * event once.
 *
 * The owner reduces each event into its snapshot, then `push`es it here. A reader that opens
 * while events are queued already has them in its snapshot: it is sent only what follows.
 * Exactly-once also rests on the reducer adding 1 to `version` per event: a batch of n events
 * must take a reader from version v to v + n. When it does not — the owner started again from
 * an empty snapshot (a new lab), with no event to say so — the reader is sent the snapshot
 * after the batch instead. A `{snapshot}` therefore replaces whatever the reader had.
 */
export class LiveFeed {
  private readonly snapshot: () => LabSnapshot;
  private readonly batchMs: number;
  private readonly readers = new Set<Reader>();
  private queued: LabEvent[] = [];
  private timer: NodeJS.Timeout | null = null;

  /** `snapshot` answers the owner's snapshot now: it holds every event pushed so far. */
  constructor(snapshot: () => LabSnapshot, options: { batchMs?: number } = {}) {
    this.snapshot = snapshot;
    this.batchMs = options.batchMs ?? BATCH_MS;
  }

  /** An event the snapshot now holds: it goes out with the next batch. */
  push(event: LabEvent): void {
    // Nobody to send it to: a reader that opens later finds it in the snapshot.
    if (this.readers.size === 0) return;
    this.queued.push(event);
    this.timer ??= setTimeout(() => this.flush(), this.batchMs);
  }

  /** A reader that is ready: sends it the snapshot now; returns what closes it. */
  open(send: (message: LabMessage) => void, options: ReaderOptions = {}): () => void {
    const snapshot = this.snapshot();
    const reader: Reader = { send, onSendError: options.onSendError ?? (() => {}), version: snapshot.version, seen: this.queued.length };
    this.readers.add(reader);
    this.deliver(reader, { snapshot });
    return () => {
      this.readers.delete(reader);
    };
  }

  /** Sends the queued events now (the timer does, `batchMs` after the first of them). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.queued;
    this.queued = [];
    if (batch.length === 0) return;
    const after = this.snapshot();
    for (const reader of [...this.readers]) {
      const events = reader.seen ? batch.slice(reader.seen) : batch;
      reader.seen = 0;
      const continues = reader.version + events.length === after.version;
      if (continues && events.length === 0) continue;
      reader.version = after.version;
      this.deliver(reader, continues ? { events } : { snapshot: after });
    }
  }

  /** Readers open now. */
  get size(): number {
    return this.readers.size;
  }

  /** Closes every reader and drops what is queued. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queued = [];
    this.readers.clear();
  }

  private deliver(reader: Reader, message: LabMessage): void {
    try {
      reader.send(message);
    } catch (error) {
      // A reader that cannot be sent to is closed, not retried.
      this.readers.delete(reader);
      reader.onSendError(error);
    }
  }
}
