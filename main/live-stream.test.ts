import { describe, expect, it } from 'vitest';
import { Subscriptions } from './live-stream.ts';

// The stream each subscription reads (snapshot, then every batch once) is app/api/live-feed.ts, tested there.

describe('Subscriptions of a window', () => {
  function tracked() {
    const closed: string[] = [];
    const subscriptions = new Subscriptions();
    const add = (id: string) => subscriptions.add(id, () => closed.push(id));
    return { subscriptions, add, closed };
  }

  it('closes a subscription when the page unsubscribes, once', () => {
    const { subscriptions, add, closed } = tracked();
    add('a');
    add('b');
    subscriptions.remove('a');
    subscriptions.remove('a');
    expect(closed).toEqual(['a']);
    expect(subscriptions.size).toBe(1);
  });

  it('replaces a subscription made again under the same id', () => {
    const { subscriptions, add, closed } = tracked();
    add('a');
    add('a');
    expect(closed).toEqual(['a']);
    expect(subscriptions.size).toBe(1);
  });

  it("closes the leaving page's subscriptions when a navigation commits, not the new page's", () => {
    const { subscriptions, add, closed } = tracked();
    add('old-1');
    add('old-2');
    subscriptions.navigationStarted();
    add('new-1'); // the new page was quick
    subscriptions.navigated();
    expect(closed).toEqual(['old-1', 'old-2']);
    expect(subscriptions.size).toBe(1);
  });

  it('closes nothing for a navigation that was refused and never committed', () => {
    const { subscriptions, add, closed } = tracked();
    add('a');
    subscriptions.navigationStarted();
    expect(closed).toEqual([]);
    // A later reload still takes it away.
    subscriptions.navigationStarted();
    subscriptions.navigated();
    expect(closed).toEqual(['a']);
  });

  it('closes everything when the window or its renderer is gone', () => {
    const { subscriptions, add, closed } = tracked();
    add('a');
    add('b');
    subscriptions.clear();
    expect(closed).toEqual(['a', 'b']);
    expect(subscriptions.size).toBe(0);
  });
});
