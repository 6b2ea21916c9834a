import type { LabMessage } from '../app/api/bridge.ts';
import type { LabEvent } from '../app/events.ts';
import type { LabSnapshot } from '../app/state/snapshot.ts';

/** What the stream reads: LabService's snapshot and its event batches. */
export interface LiveSource {
  getSnapshot(): LabSnapshot;
  subscribe(listener: (events: LabEvent[]) => void): () => void;
}

interface Reader {
  send: (message: LabMessage) => void;
  /** The snapshot version the reader holds: what it was sent plus every batch since. */
  version: number;
}

/**
 * The lab's live stream for windows: a reader that says it is ready gets the snapshot of
 * that moment, then every event batch after it, in order, each event once.
 *
 * The stream listens to the lab from its creation, whether or not a window is ready, so
 * nothing is lost before a window asks: what happened earlier is in the snapshot.
 * Exactly-once rests on the reducer adding 1 to `version` per event: a batch of n events
 * must take a reader from version v to v + n. When it does not — the reader's snapshot
 * already held some of the batch (they were recorded, not yet pushed, when it subscribed),
 * or the lab was restarted (LabService starts each lab from an empty snapshot, with no
 * event to say so) — the reader gets the snapshot after the batch instead of the batch.
 * A `{snapshot}` therefore replaces whatever the reader had.
 */
export class LiveStream {
  private readonly source: LiveSource;
  private readonly readers = new Set<Reader>();
  private readonly off: () => void;
  private readonly onSendError: (error: unknown) => void;

  constructor(source: LiveSource, options: { onSendError?: (error: unknown) => void } = {}) {
    this.source = source;
    this.onSendError = options.onSendError ?? (() => {});
    this.off = source.subscribe((events) => this.push(events));
  }

  /** A reader that is ready: sends it the snapshot now; returns what closes it. */
  open(send: (message: LabMessage) => void): () => void {
    const snapshot = this.source.getSnapshot();
    const reader: Reader = { send, version: snapshot.version };
    this.readers.add(reader);
    this.deliver(reader, { snapshot });
    return () => {
      this.readers.delete(reader);
    };
  }

  get size(): number {
    return this.readers.size;
  }

  close(): void {
    this.off();
    this.readers.clear();
  }

  private push(events: LabEvent[]): void {
    // LabService pushes synchronously from its flush: its snapshot is exactly "after this batch".
    const after = this.source.getSnapshot();
    for (const reader of [...this.readers]) {
      const inStep = reader.version + events.length === after.version;
      reader.version = after.version;
      this.deliver(reader, inStep ? { events } : { snapshot: after });
    }
  }

  private deliver(reader: Reader, message: LabMessage): void {
    try {
      reader.send(message);
    } catch (error) {
      // A reader that cannot be sent to (its window is gone) is closed, not retried.
      this.readers.delete(reader);
      this.onSendError(error);
    }
  }
}

/**
 * The open subscriptions of one window (webContents), by the ids its preload chose. A page
 * that goes away by navigation or reload does not unsubscribe: what it had open when a
 * cross-document navigation started is closed once the navigation commits. Subscriptions
 * opened after the start (by the new page) stay; a navigation that is refused (and so never
 * commits) closes nothing.
 */
export class Subscriptions {
  private readonly open = new Map<string, { close: () => void; leaving: boolean }>();

  /** A second subscription under an id replaces the first. */
  add(id: string, close: () => void): void {
    this.open.get(id)?.close();
    this.open.set(id, { close, leaving: false });
  }

  remove(id: string): void {
    this.open.get(id)?.close();
    this.open.delete(id);
  }

  /** The window's top frame started loading another document. */
  navigationStarted(): void {
    for (const subscription of this.open.values()) subscription.leaving = true;
  }

  /** The new document committed: the page that left is gone. */
  navigated(): void {
    for (const [id, subscription] of this.open) {
      if (subscription.leaving) this.remove(id);
    }
  }

  /** The window or its renderer process is gone. */
  clear(): void {
    for (const subscription of this.open.values()) subscription.close();
    this.open.clear();
  }

  get size(): number {
    return this.open.size;
  }
}
