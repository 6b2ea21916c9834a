/** The links an entry of a `LinkedList` carries; the list alone sets them. */
export interface Linked<T> {
  prev: T | null;
  next: T | null;
  listed: boolean;
}

/**
 * An insertion-ordered list of entries that come and go at a high rate (one per request), in
 * place of a Set. Under such churn V8 rebuilds a Set's table again and again; once the Set is
 * old, each new table is built in the old generation, and each discarded one still points at
 * the entries it held: every request's objects then outlive the young-generation collections
 * and are promoted, to be freed only by a full GC (measured on the proxy: ~2.5 KiB promoted per
 * request, GC pauses per request 2–3× a bare proxy's). A removed entry here points at nothing.
 */
export class LinkedList<T extends Linked<T>> implements Iterable<T> {
  private head: T | null = null;
  private tail: T | null = null;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The oldest entry. */
  first(): T | null {
    return this.head;
  }

  add(entry: T): void {
    if (entry.listed) return;
    entry.listed = true;
    entry.prev = this.tail;
    entry.next = null;
    if (this.tail) this.tail.next = entry;
    else this.head = entry;
    this.tail = entry;
    this.count++;
  }

  /** False when the entry was not in the list. */
  delete(entry: T): boolean {
    if (!entry.listed) return false;
    if (entry.prev) entry.prev.next = entry.next;
    else this.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.tail = entry.prev;
    entry.prev = entry.next = null;
    entry.listed = false;
    this.count--;
    return true;
  }

  /** Oldest first; deleting the entry just given does not stop the iteration. */
  *[Symbol.iterator](): Iterator<T> {
    for (let entry = this.head; entry; ) {
      const next: T | null = entry.next;
      yield entry;
      entry = next;
    }
  }
}
