import { describe, expect, it, vi } from 'vitest';
import type { LabMessage } from '../app/api/bridge.ts';
import { LabService } from '../app/api/lab-service.ts';
import type { LabEvent } from '../app/events.ts';
import { reduce } from '../app/state/reducer.ts';
import { emptySnapshot, type LabSnapshot } from '../app/state/snapshot.ts';
import { LiveStream, Subscriptions, type LiveSource } from './live-stream.ts';

/** LabService's stream, step by step: `record` reduces at once, pushes only to current listeners, `flush` is its 50 ms timer. */
class FakeLab implements LiveSource {
  snapshot = emptySnapshot();
  pending: LabEvent[] = [];
  listeners = new Set<(events: LabEvent[]) => void>();
  /** As LabService with no listener: events reach the snapshot, never a push. */
  silent = false;
  getSnapshot(): LabSnapshot {
    return this.snapshot;
  }
  subscribe(listener: (events: LabEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  record(...messages: string[]): void {
    for (const message of messages) {
      const event: LabEvent = { type: 'lab.log', at: 0, level: 'info', message };
      this.snapshot = reduce(this.snapshot, event);
      if (this.listeners.size > 0 && !this.silent) this.pending.push(event);
    }
  }
  flush(): void {
    const batch = this.pending;
    this.pending = [];
    for (const listener of this.listeners) listener(batch);
  }
  /** lab.start: a new lab starts from an empty snapshot, with no event to say so. */
  restart(): void {
    this.snapshot = emptySnapshot();
  }
}

/** A window's view: what it would draw from the messages, applied with the same reducer. */
function reader() {
  const messages: LabMessage[] = [];
  let state: LabSnapshot | null = null;
  const send = (message: LabMessage) => {
    messages.push(message);
    if ('snapshot' in message) state = message.snapshot;
    else {
      if (!state) throw new Error('events before the snapshot');
      for (const event of message.events) state = reduce(state, event);
    }
  };
  const logged = () => (state?.recent ?? []).map((e) => (e.type === 'lab.log' ? e.message : e.type));
  return { send, messages, logged, state: () => state };
}

describe('LiveStream', () => {
  it('sends the snapshot when the window is ready, then every batch in order', () => {
    const lab = new FakeLab();
    const stream = new LiveStream(lab);
    lab.record('before the window');
    lab.flush();
    const win = reader();
    stream.open(win.send);
    expect(win.messages).toHaveLength(1);
    expect(win.messages[0]).toHaveProperty('snapshot');
    expect(win.logged()).toEqual(['before the window']);
    lab.record('a', 'b');
    lab.flush();
    lab.record('c');
    lab.flush();
    expect(win.messages.slice(1)).toEqual([
      { events: [expect.objectContaining({ message: 'a' }), expect.objectContaining({ message: 'b' })] },
      { events: [expect.objectContaining({ message: 'c' })] },
    ]);
    expect(win.logged()).toEqual(['before the window', 'a', 'b', 'c']);
    expect(win.state()).toEqual(lab.snapshot);
  });

  it('loses nothing that happened before the window was ready, not even unpushed events', () => {
    const lab = new FakeLab();
    const stream = new LiveStream(lab);
    lab.record('early', 'also early');
    // Not pushed yet when the window says it is ready: they are in its snapshot already…
    const win = reader();
    stream.open(win.send);
    expect(win.logged()).toEqual(['early', 'also early']);
    lab.record('late');
    lab.flush();
    // …so the batch that carries them is replaced by the snapshot after it: each event once.
    expect(win.messages[1]).toHaveProperty('snapshot');
    expect(win.logged()).toEqual(['early', 'also early', 'late']);
    lab.record('next');
    lab.flush();
    expect(win.messages[2]).toEqual({ events: [expect.objectContaining({ message: 'next' })] });
    expect(win.logged()).toEqual(['early', 'also early', 'late', 'next']);
    expect(win.state()).toEqual(lab.snapshot);
  });

  it('catches up with events the lab recorded but never pushed', () => {
    const lab = new FakeLab();
    lab.record('before the stream existed');
    const stream = new LiveStream(lab);
    const win = reader();
    stream.open(win.send);
    lab.silent = true;
    lab.record('unpushed');
    lab.silent = false;
    lab.record('pushed');
    lab.flush();
    expect(win.logged()).toEqual(['before the stream existed', 'unpushed', 'pushed']);
    expect(win.state()).toEqual(lab.snapshot);
  });

  it('resends the snapshot when the lab is restarted, so a window does not keep the old lab', () => {
    const lab = new FakeLab();
    const stream = new LiveStream(lab);
    const win = reader();
    stream.open(win.send);
    lab.record('old lab 1', 'old lab 2');
    lab.flush();
    lab.record('old lab 3');
    lab.restart();
    lab.record('new lab 1');
    lab.flush();
    expect(win.messages.at(-1)).toHaveProperty('snapshot');
    expect(win.logged()).toEqual(['new lab 1']);
    lab.record('new lab 2');
    lab.flush();
    expect(win.messages.at(-1)).toHaveProperty('events');
    expect(win.state()).toEqual(lab.snapshot);
  });

  it('keeps each window on its own: one joining late does not disturb another', () => {
    const lab = new FakeLab();
    const stream = new LiveStream(lab);
    const first = reader();
    stream.open(first.send);
    lab.record('a');
    const second = reader();
    stream.open(second.send); // 'a' is recorded, not pushed
    lab.flush();
    expect(first.messages.map((m) => Object.keys(m)[0])).toEqual(['snapshot', 'events']);
    expect(second.messages.map((m) => Object.keys(m)[0])).toEqual(['snapshot', 'snapshot']);
    lab.record('b');
    lab.flush();
    expect(first.logged()).toEqual(['a', 'b']);
    expect(second.logged()).toEqual(['a', 'b']);
  });

  it('stops sending to a closed reader, and drops one it cannot send to', () => {
    const lab = new FakeLab();
    const errors: unknown[] = [];
    const stream = new LiveStream(lab, { onSendError: (error) => errors.push(error) });
    const win = reader();
    const close = stream.open(win.send);
    let sends = 0;
    stream.open(() => {
      sends += 1;
      if (sends > 1) throw new Error('Object has been destroyed');
    });
    expect(stream.size).toBe(2);
    close();
    lab.record('x');
    lab.flush();
    expect(win.messages).toHaveLength(1);
    expect(stream.size).toBe(0);
    expect(errors).toEqual([new Error('Object has been destroyed')]);
  });

  it('lets go of the lab when closed', () => {
    const lab = new FakeLab();
    const stream = new LiveStream(lab);
    expect(lab.listeners.size).toBe(1);
    stream.close();
    expect(lab.listeners.size).toBe(0);
  });
});

describe('LiveStream over the real LabService', () => {
  it('gets each event once, in order, across its 50 ms pushes', async () => {
    const service = new LabService();
    // LabService records what its lab emits; a test has no lab, so it records directly.
    const record = (message: string) => service['record']({ type: 'lab.log', at: Date.now(), level: 'info', message });
    const stream = new LiveStream(service);
    record('1');
    const early = reader();
    stream.open(early.send);
    record('2');
    await new Promise((resolve) => setTimeout(resolve, 80));
    record('3');
    const late = reader();
    stream.open(late.send);
    record('4');
    await vi.waitFor(() => expect(late.logged()).toEqual(['1', '2', '3', '4']));
    expect(early.logged()).toEqual(['1', '2', '3', '4']);
    expect(early.state()).toEqual(service.getSnapshot());
    expect(late.state()).toEqual(service.getSnapshot());
    stream.close();
    await service.close();
  });
});

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
