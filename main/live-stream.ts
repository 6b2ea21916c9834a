// The Electron side of the lab's live stream: which subscriptions each window has open. The
// stream itself (snapshot, then every batch once, in order) is app/api/live-feed.ts, shared
// with web mode; a page opens its reader only when it says it is ready (`pinlab:subscribe`).

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
